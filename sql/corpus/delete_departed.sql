-- Rows whose key has left the source (reads the key columns only).
DELETE FROM `${target}` WHERE doc_id NOT IN (${source_keys})
