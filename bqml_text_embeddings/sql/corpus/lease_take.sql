-- One refresh of a model at a time: BigQuery serialises DML on a table, so of two runs that start
-- together one updates the row and the other finds it held (0 rows) and leaves.
UPDATE `${lease}`
SET holder = run_id, expires_at = TIMESTAMP_ADD(CURRENT_TIMESTAMP(), INTERVAL ${lease_minutes} MINUTE)
WHERE model = '${model}' AND (holder IS NULL OR expires_at < CURRENT_TIMESTAMP())
