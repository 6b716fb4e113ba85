-- Embeddings kept as a table: `content`, `embedding` (ARRAY<FLOAT64>), then the model's status column if it has one.
CREATE OR REPLACE TABLE `${table}` AS
${embeddings};
