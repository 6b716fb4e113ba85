-- Embeddings from an imported TensorFlow model (NNLM, SWIVEL): the signature's output, named `embedding`.
SELECT content, ${output_column} AS embedding, * EXCEPT (content, ${output_column})
FROM ML.PREDICT(
  MODEL `${model}`,
  (${rows}))
