-- Rows of corpus ${corpus} that ${model} has not embedded: waiting for a retry, or failed for good with the reason.
CREATE TABLE IF NOT EXISTS `${table}` (
  doc_id STRING NOT NULL,
  content STRING,
  content_fingerprint INT64 NOT NULL,
  model_version STRING NOT NULL,
  status STRING NOT NULL OPTIONS (description = 'retry: a later run tries again; failed: for good'),
  attempts INT64 NOT NULL,
  error STRING NOT NULL,
  attempted_at TIMESTAMP NOT NULL)
CLUSTER BY doc_id
OPTIONS (description = 'Rows of ${source_table} not embedded by ${model}, kept by ${procedure}');
-- Columns added since the table's first release: a table made before gains them (BigQuery adds only NULLABLE columns).
ALTER TABLE `${table}` ADD COLUMN IF NOT EXISTS rejections INT64 OPTIONS (description = 'quota rejections so far: the first ones use no attempt');
