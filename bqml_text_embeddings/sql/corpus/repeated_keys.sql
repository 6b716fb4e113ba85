-- Keys of the source held by more than one row, with how many rows (and how many of them have text).
SELECT doc_id, COUNT(*) AS copies, COUNTIF(TRIM(IFNULL(content, '')) != '') AS copies_with_text
FROM (
  SELECT ${doc_id} AS doc_id, `${text}` AS content
  FROM `${table}`
  WHERE ${key_present})
GROUP BY doc_id
HAVING COUNT(*) > 1
