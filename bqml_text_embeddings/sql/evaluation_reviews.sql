-- The labelled reviews every model is measured on: ${per_class} positive and ${per_class} negative from
-- each of IMDB's train and test splits, picked by a fingerprint of the text, so every run and
-- every model sees the same ones.
CREATE OR REPLACE TABLE `${table}` AS
SELECT review AS content, label = 'Positive' AS positive, split
FROM `${source_table}`
WHERE split IN ('train', 'test') AND label IN ('Positive', 'Negative')
QUALIFY ROW_NUMBER() OVER (PARTITION BY split, label ORDER BY FARM_FINGERPRINT(review), review) <= ${per_class};
