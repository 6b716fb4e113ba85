-- Semantic search as a table function: SELECT * FROM `${function}`('a text', 5) ORDER BY distance
CREATE OR REPLACE TABLE FUNCTION `${function}`(query_text STRING, k INT64) AS (
${search}
);
