INSERT INTO `${embeddings}` (doc_id, content, embedding, dims, content_fingerprint, model_version, status, attempts, embedded_at)
SELECT b.doc_id, b.content, r.embedding, ARRAY_LENGTH(r.embedding), b.content_fingerprint, '${model_version}', 'embedded', b.previous_attempts + 1, CURRENT_TIMESTAMP()
FROM _batch AS b
JOIN _embedded AS r ON r.doc_id = b.doc_id
WHERE r.error = ''
