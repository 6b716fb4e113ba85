-- Keys embedded or tried before that have left the source (reads the source's key columns once).
SELECT doc_id
FROM (
  SELECT doc_id FROM `${embeddings}`
  UNION ALL
  SELECT doc_id FROM `${failures}`)
WHERE doc_id NOT IN (${source_keys})
