-- The next batch: at most ${batch_size} rows of the work list, in key order after the last batch's
-- (procedure variable last_doc_id, NULL before the first). A cap, not an average: for a remote model the
-- batch is what bounds a job's requests against the endpoint's quota.
SELECT doc_id, content, content_fingerprint, previous_attempts, previous_rejections
FROM _todo
WHERE last_doc_id IS NULL OR doc_id > last_doc_id
ORDER BY doc_id
LIMIT ${batch_size}
