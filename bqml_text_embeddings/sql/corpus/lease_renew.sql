-- Still this run's lease? Renewed before every batch, outside its transaction: the lease table is
-- shared by the corpus's models, and BigQuery aborts a transaction that mutates a table another open
-- transaction mutates. A run that lost the lease (a newer procedure took over, or it outlived the
-- lease) changes nothing more.
UPDATE `${lease}`
SET expires_at = TIMESTAMP_ADD(CURRENT_TIMESTAMP(), INTERVAL ${lease_minutes} MINUTE)
WHERE model = '${model}' AND holder = run_id
