-- Embeddings from a Vertex AI managed embedding model. A row the model failed is kept: its
-- embedding is empty and status says why (empty when it worked). task_type tells the model
-- what the vectors are for (documents to search, a query, a classifier's features).
SELECT content, embedding, status, * EXCEPT (content, embedding, status, statistics)
FROM AI.GENERATE_EMBEDDING(
  MODEL `${model}`,
  (${rows}),
  STRUCT('${task_type}' AS task_type))
