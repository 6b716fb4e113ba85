-- Rows this model keeps for the corpus, embedded or not: what a share of deletions is a share of.
SELECT (SELECT COUNT(*) FROM `${embeddings}`) + (SELECT COUNT(*) FROM `${failures}`)
