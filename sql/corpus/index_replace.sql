CREATE OR REPLACE VECTOR INDEX `${index}` ON `${embeddings}`(embedding)
  OPTIONS (index_type = '${index_type}', distance_type = 'COSINE')
