-- Which refresh of each model of corpus ${corpus} is running, so that two never work at once.
CREATE TABLE IF NOT EXISTS `${table}` (
  model STRING NOT NULL,
  holder STRING,
  expires_at TIMESTAMP)
OPTIONS (description = 'Refresh leases of corpus ${corpus}');
