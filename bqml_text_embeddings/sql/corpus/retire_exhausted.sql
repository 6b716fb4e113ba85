-- Rows that already used the attempts allowed now (maxAttempts may have been lowered) are failed for
-- good, as a batch would have marked them: not sent again, counted as failed.
UPDATE `${failures}` SET status = 'failed' WHERE status = 'retry' AND attempts >= ${max_attempts}
