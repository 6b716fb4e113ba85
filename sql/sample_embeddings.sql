-- Tutorial step 5: sample embeddings of ${rows} rows, kept as a table.
CREATE OR REPLACE TABLE `${table}` AS
SELECT *
FROM ML.PREDICT(
  MODEL `${model}`,
  (SELECT ${column} AS ${input_column} FROM `${source_table}` LIMIT ${rows}));
