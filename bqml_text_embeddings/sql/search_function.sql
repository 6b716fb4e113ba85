-- Semantic search of ${kind} ${name} with ${model}: SELECT * FROM `${function}`('a text', 10) ORDER BY distance
CREATE OR REPLACE TABLE FUNCTION `${function}`(query_text STRING, k INT64) AS (
${search}
);
