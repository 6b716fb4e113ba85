-- A new model version with other dimensions: its first vectors replace the old ones' place in the
-- index at once, and every old row becomes pending (one vector length per column, as the index needs).
DELETE FROM `${embeddings}`
WHERE model_version != '${model_version}'
  AND ARRAY_LENGTH(embedding) != (SELECT MAX(ARRAY_LENGTH(embedding)) FROM `${embeddings}` WHERE model_version = '${model_version}')
