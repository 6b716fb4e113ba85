-- Each answer judged before anything is stored: a vector index and VECTOR_SEARCH need one length and
-- no NULL element in every row, so a vector of another length than the model's (procedure variable
-- model_dims), or with a NULL in it, is a failure with its reason, never a row of the table.
SELECT
  doc_id,
  embedding,
  CASE
    WHEN error != '' THEN error
    WHEN IFNULL(ARRAY_LENGTH(embedding), 0) = 0 THEN 'the model returned an empty embedding'
    WHEN ARRAY_LENGTH(embedding) != model_dims
      THEN FORMAT('the model returned %d values, not the %d of its vectors', ARRAY_LENGTH(embedding), model_dims)
    WHEN EXISTS (SELECT 1 FROM UNNEST(embedding) AS value WHERE value IS NULL) THEN 'the model returned a vector with a NULL value'
    ELSE ''
  END AS error
FROM _answers
