INSERT INTO `${runs}` (run_id, model, model_version, started_at, finished_at, outcome, batches, sent, embedded, failed, deleted)
VALUES (run_id, '${model}', '${model_version}', started_at, CURRENT_TIMESTAMP(), outcome, batches, sent, embedded, failed, deleted)
