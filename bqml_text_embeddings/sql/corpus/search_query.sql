-- Semantic search of corpus ${corpus} with ${model}: the @k rows nearest in meaning to @query.
${search}
ORDER BY distance
