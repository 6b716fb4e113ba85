INSERT INTO `${lease}` (model, holder, expires_at)
SELECT '${model}', CAST(NULL AS STRING), CAST(NULL AS TIMESTAMP)
FROM (SELECT 1)
WHERE NOT EXISTS (SELECT 1 FROM `${lease}` WHERE model = '${model}')
