-- A new procedure takes over: a run of the old one loses the lease, and stops at its next batch.
UPDATE `${lease}` SET holder = NULL, expires_at = NULL WHERE model = '${model}'
