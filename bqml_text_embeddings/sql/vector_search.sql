SELECT ${columns}, distance
FROM VECTOR_SEARCH(
  ${base},
  'embedding',
  (${query_embedding}),
  'embedding',
  top_k => ${k},
  distance_type => 'COSINE')
