DELETE FROM `${target}` WHERE doc_id IN (SELECT doc_id FROM _batch)
