-- One row per refresh run of corpus ${corpus}, any model: what it did and how it ended.
CREATE TABLE IF NOT EXISTS `${table}` (
  run_id STRING NOT NULL,
  model STRING NOT NULL,
  model_version STRING NOT NULL,
  started_at TIMESTAMP NOT NULL,
  finished_at TIMESTAMP NOT NULL,
  outcome STRING NOT NULL,
  batches INT64 NOT NULL,
  sent INT64 NOT NULL OPTIONS (description = 'rows sent to the model'),
  embedded INT64 NOT NULL,
  failed INT64 NOT NULL OPTIONS (description = 'rows written to the failures table (retry or failed)'),
  deleted INT64 NOT NULL OPTIONS (description = 'rows removed because their key left the source'))
OPTIONS (description = 'Refresh runs of corpus ${corpus}');
