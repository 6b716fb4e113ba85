CREATE VECTOR INDEX IF NOT EXISTS `${index}` ON `${embeddings}`(embedding)
  OPTIONS (index_type = '${index_type}', distance_type = 'COSINE')
