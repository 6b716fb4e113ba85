SELECT *
FROM ML.PREDICT(
  MODEL `${model}`,
  (SELECT ${column} AS ${input_column} FROM `${source_table}` LIMIT 10))
