-- Semantic search: the @k sample rows nearest in meaning to @query, embedded by the same model.
${search}
ORDER BY distance
