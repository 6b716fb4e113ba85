SELECT doc_id, content FROM _batch WHERE TRIM(IFNULL(content, '')) != ''
