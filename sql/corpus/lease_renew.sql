-- Still this run's lease? Renewed with every batch; a run that lost it (a newer procedure took
-- over, or it outlived the lease) changes nothing more.
UPDATE `${lease}`
SET expires_at = TIMESTAMP_ADD(CURRENT_TIMESTAMP(), INTERVAL ${lease_minutes} MINUTE)
WHERE model = '${model}' AND holder = ${run_id}
