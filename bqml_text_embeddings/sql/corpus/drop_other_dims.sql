-- A new model version with other dimensions: its first vectors take the old ones' place at once,
-- and every old row becomes pending (one vector length per column, as the index needs). Reads
-- two small columns of the table, never the stored vectors.
DELETE FROM `${embeddings}`
WHERE model_version != '${model_version}'
  AND dims != model_dims
