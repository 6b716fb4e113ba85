-- Rows of the batch the model did not embed. A retryable failure (a row the model did not answer,
-- a transient error) is tried again by a later run until the attempts run out; a quota rejection
-- is not the row's fault and uses no attempt (rows past a quota are not billed); any other failure
-- is final.
INSERT INTO `${failures}` (doc_id, content, content_fingerprint, model_version, status, attempts, error, attempted_at)
SELECT doc_id, content, content_fingerprint, '${model_version}', IF(retryable AND attempts < ${max_attempts}, 'retry', 'failed'), attempts, error, CURRENT_TIMESTAMP()
FROM (
  SELECT
    b.doc_id,
    b.content,
    b.content_fingerprint,
    b.previous_attempts + IF(
      r.doc_id IS NOT NULL AND STARTS_WITH(r.error, 'A retryable error occurred') AND REGEXP_CONTAINS(UPPER(r.error), r'RESOURCE.EXHAUSTED|QUOTA'),
      0, 1) AS attempts,
    CASE
      WHEN TRIM(IFNULL(b.content, '')) = '' THEN 'no text to embed'
      WHEN r.doc_id IS NULL THEN 'A retryable error occurred: the model returned no row for it'
      WHEN r.error = '' THEN 'the model returned an empty embedding'
      ELSE r.error
    END AS error,
    TRIM(IFNULL(b.content, '')) != '' AND (r.doc_id IS NULL OR STARTS_WITH(r.error, 'A retryable error occurred')) AS retryable
  FROM _batch AS b
  LEFT JOIN _embedded AS r ON r.doc_id = b.doc_id
  WHERE r.doc_id IS NULL OR r.error != '' OR IFNULL(ARRAY_LENGTH(r.embedding), 0) = 0)
