-- BigQuery populates a vector index only on a table of ${min_bytes} bytes (10 MB) or more: under that the
-- index stays TEMPORARILY DISABLED (BASE_TABLE_TOO_SMALL). It is made once the table reaches that size.
IF (SELECT size_bytes FROM `${dataset}.__TABLES__` WHERE table_id = '${table_id}') >= ${min_bytes} THEN
  ${create};
END IF;
