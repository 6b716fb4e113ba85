SELECT
  '${model}' AS model,
  COUNT(*) AS source_rows,
  COUNTIF(is_embedded) AS embedded,
  COUNTIF(NOT is_embedded AND NOT is_failed) AS pending,
  COUNTIF(is_failed) AS failed,
  ${failed_by_reason} AS failed_by_reason,
  ${pending_by_reason} AS pending_by_reason,
  (SELECT COUNT(*) FROM (${repeated_keys})) AS repeated_keys,
  (SELECT AS STRUCT r.started_at, r.finished_at, r.outcome, r.batches, r.sent, r.embedded, r.failed, r.deleted
   FROM `${runs}` AS r
   WHERE r.model = '${model}'
   ORDER BY r.started_at DESC
   LIMIT 1) AS last_refresh
FROM (
  SELECT
    IFNULL(e.content_fingerprint = s.content_fingerprint AND e.model_version = '${model_version}', FALSE) AS is_embedded,
    IFNULL(f.content_fingerprint = s.content_fingerprint AND f.model_version = '${model_version}' AND f.status = 'failed', FALSE) AS is_failed
  FROM (${source}) AS s
  LEFT JOIN `${embeddings}` AS e ON e.doc_id = s.doc_id
  LEFT JOIN `${failures}` AS f ON f.doc_id = s.doc_id)
