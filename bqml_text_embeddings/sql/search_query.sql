-- Semantic search of ${kind} ${name} with ${model}: the @k rows nearest in meaning to @query.
${search}
ORDER BY distance
