-- A sentiment classifier on one model's embeddings of the training reviews; BigQuery ML takes
-- the ARRAY<FLOAT64> as a dense feature. Every training review trains (the test split evaluates).
CREATE OR REPLACE MODEL `${model}`
OPTIONS (
  model_type = 'LOGISTIC_REG',
  input_label_cols = ['positive'],
  data_split_method = 'NO_SPLIT')
AS
SELECT embedding, positive
FROM `${embeddings}`
WHERE split = 'train' AND ARRAY_LENGTH(embedding) > 0;
