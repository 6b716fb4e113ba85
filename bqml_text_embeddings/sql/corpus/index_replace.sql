CREATE OR REPLACE VECTOR INDEX `${index}` ON `${embeddings}`(embedding)
  STORING (model_version)
  OPTIONS (index_type = '${index_type}', distance_type = 'COSINE')
