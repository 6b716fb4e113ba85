-- How well one model's embeddings tell positive from negative test reviews, measured now.
-- failed_rows: reviews the model could not embed (remote models only), left out of both splits.
CREATE OR REPLACE TABLE `${table}` AS
SELECT
  '${name}' AS model,
  (SELECT MAX(ARRAY_LENGTH(embedding)) FROM `${embeddings}`) AS dims,
  ${rows} AS `rows`,
  (SELECT COUNTIF(IFNULL(ARRAY_LENGTH(embedding), 0) = 0) FROM `${embeddings}`) AS failed_rows,
  accuracy,
  `precision`,
  recall,
  f1_score,
  roc_auc,
  log_loss,
  CURRENT_TIMESTAMP() AS measured_at
FROM ML.EVALUATE(
  MODEL `${classifier}`,
  (SELECT embedding, positive FROM `${embeddings}` WHERE split = 'test' AND ARRAY_LENGTH(embedding) > 0));
