-- Embeddings from the remote model over our Vertex AI endpoint (BERT). A row the endpoint
-- failed is kept: its embedding is empty and remote_model_status says why (NULL when it worked).
SELECT content, embedding, remote_model_status, * EXCEPT (content, embedding, remote_model_status)
FROM ML.PREDICT(
  MODEL `${model}`,
  (${rows}))
