CREATE VECTOR INDEX IF NOT EXISTS `${index}` ON `${embeddings}`(embedding)
  STORING (model_version)
  OPTIONS (index_type = '${index_type}', distance_type = 'COSINE')
