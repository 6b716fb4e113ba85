-- Every row of the source that has a key, once per key (the same one every run if a key repeats):
-- its id, its text and a fingerprint of the text, which tells an edit from an unchanged row.
SELECT doc_id, content, content_fingerprint
FROM (
  SELECT ${doc_id} AS doc_id, `${text}` AS content, FARM_FINGERPRINT(IFNULL(`${text}`, '')) AS content_fingerprint
  FROM `${table}`
  WHERE ${key_present})
WHERE TRUE
QUALIFY ROW_NUMBER() OVER (PARTITION BY doc_id ORDER BY content_fingerprint, content) = 1
