-- The embeddings of corpus ${corpus} by ${model}: only rows the model embedded, so every vector has
-- the same length (as a vector index needs). LangChain's BigQueryVectorStore and BigQuery
-- DataFrames use it as it is: doc_id, content, embedding, then what the refresh keeps.
CREATE TABLE IF NOT EXISTS `${table}` (
  doc_id STRING NOT NULL OPTIONS (description = 'the source row key (several key columns as a JSON object)'),
  content STRING OPTIONS (description = 'the text that was embedded'),
  embedding ARRAY<FLOAT64> OPTIONS (description = 'the model output'),
  dims INT64 NOT NULL OPTIONS (description = 'ARRAY_LENGTH(embedding), read where the vectors need not be'),
  content_fingerprint INT64 NOT NULL OPTIONS (description = 'FARM_FINGERPRINT of the text: an edit changes it'),
  model_version STRING NOT NULL OPTIONS (description = 'the model version that embedded it'),
  status STRING NOT NULL OPTIONS (description = 'embedded'),
  attempts INT64 NOT NULL OPTIONS (description = 'attempts it took'),
  embedded_at TIMESTAMP NOT NULL)
CLUSTER BY doc_id
OPTIONS (description = 'Embeddings of ${source_table} by ${model}, kept current by ${procedure}');
