-- Rows of the batch the model did not embed. A retryable failure (a row the model did not answer,
-- a transient error) is tried again by a later run until the attempts run out. A quota rejection is
-- not the row's fault (rows past a quota are not billed): the first ${free_rejections} of a row use no
-- attempt, later ones do, so a rejection that never clears ends as a failure with its reason. Any
-- other failure is final.
INSERT INTO `${failures}` (doc_id, content, content_fingerprint, model_version, status, attempts, rejections, error, attempted_at)
SELECT doc_id, content, content_fingerprint, '${model_version}', IF(retryable AND attempts < ${max_attempts}, 'retry', 'failed'), attempts, rejections, error, CURRENT_TIMESTAMP()
FROM (
  SELECT
    doc_id,
    content,
    content_fingerprint,
    previous_attempts + IF(quota AND previous_rejections < ${free_rejections}, 0, 1) AS attempts,
    previous_rejections + IF(quota, 1, 0) AS rejections,
    error,
    retryable
  FROM (
    SELECT
      b.doc_id,
      b.content,
      b.content_fingerprint,
      b.previous_attempts,
      b.previous_rejections,
      CASE
        WHEN TRIM(IFNULL(b.content, '')) = '' THEN 'no text to embed'
        WHEN r.doc_id IS NULL THEN 'A retryable error occurred: the model returned no row for it'
        ELSE r.error
      END AS error,
      TRIM(IFNULL(b.content, '')) != '' AND (r.doc_id IS NULL OR STARTS_WITH(r.error, 'A retryable error occurred')) AS retryable,
      IFNULL(STARTS_WITH(r.error, 'A retryable error occurred') AND REGEXP_CONTAINS(UPPER(r.error), r'RESOURCE.EXHAUSTED|QUOTA'), FALSE) AS quota
    FROM _batch AS b
    LEFT JOIN _embedded AS r ON r.doc_id = b.doc_id
    WHERE r.doc_id IS NULL OR r.error != ''))
