-- BigQuery refuses a vector index on a table of fewer than ${min_rows} rows: made once the table has them.
IF (SELECT COUNT(*) FROM `${embeddings}`) >= ${min_rows} THEN
  ${create};
END IF;
