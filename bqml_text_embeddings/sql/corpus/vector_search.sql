SELECT base.doc_id, base.content, distance
FROM VECTOR_SEARCH(
  ${base},
  'embedding',
  (${query_embedding}),
  'embedding',
  top_k => ${k},
  distance_type => 'COSINE')
