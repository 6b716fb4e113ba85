ARRAY(
    SELECT AS STRUCT f.error AS reason, COUNT(*) AS `rows`
    FROM `${failures}` AS f
    JOIN (${source}) AS s ON s.doc_id = f.doc_id AND s.content_fingerprint = f.content_fingerprint
    WHERE f.status = '${status}' AND f.model_version = '${model_version}'
    GROUP BY f.error
    ORDER BY `rows` DESC, reason
    LIMIT 20)
