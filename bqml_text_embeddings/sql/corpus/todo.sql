-- What this run embeds: new keys, edited text, rows embedded by an older version of the model, and
-- rows whose last attempt failed retryably with attempts left. Rows failed for good stay as they
-- are until their text or the model changes. Kept as _todo, clustered by doc_id: batches are key ranges.
SELECT
  s.doc_id,
  s.content,
  s.content_fingerprint,
  IF(f.content_fingerprint = s.content_fingerprint AND f.model_version = '${model_version}', f.attempts, 0) AS previous_attempts,
  IF(f.content_fingerprint = s.content_fingerprint AND f.model_version = '${model_version}', IFNULL(f.rejections, 0), 0) AS previous_rejections
FROM (${source}) AS s
LEFT JOIN `${embeddings}` AS e ON e.doc_id = s.doc_id
LEFT JOIN `${failures}` AS f ON f.doc_id = s.doc_id
WHERE NOT IFNULL(e.content_fingerprint = s.content_fingerprint AND e.model_version = '${model_version}', FALSE)
  AND NOT IFNULL(f.content_fingerprint = s.content_fingerprint AND f.model_version = '${model_version}' AND f.status = 'failed', FALSE)
