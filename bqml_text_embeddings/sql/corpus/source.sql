-- Every row of the source that has a key, once per key. BigQuery enforces no primary key, so of several
-- rows with one key the same one wins every run, whatever order they are read in: a row with text
-- before a blank one, then the greatest `newest` (corpora.NAME.newestBy; NULL when not set), then the
-- smallest fingerprint. Its id, its text and a fingerprint of the text, which tells an edit from an
-- unchanged row. The view CORPUS_repeated_keys lists every repeated key.
SELECT doc_id, content, content_fingerprint
FROM (
  SELECT ${doc_id} AS doc_id, `${text}` AS content, FARM_FINGERPRINT(IFNULL(`${text}`, '')) AS content_fingerprint, ${newest} AS newest
  FROM `${table}`
  WHERE ${key_present})
WHERE TRUE
QUALIFY ROW_NUMBER() OVER (PARTITION BY doc_id ORDER BY TRIM(IFNULL(content, '')) != '' DESC, newest DESC, content_fingerprint, content) = 1
