-- The length of this model's vectors when the stack cannot know it beforehand: that of the vectors it
-- already stored, else the most common length among its first answers.
SELECT IFNULL(
  (SELECT ANY_VALUE(dims) FROM `${embeddings}` WHERE model_version = '${model_version}'),
  (SELECT ARRAY_LENGTH(embedding) AS dims FROM _answers WHERE error = '' AND ARRAY_LENGTH(embedding) > 0
   GROUP BY dims ORDER BY COUNT(*) DESC, dims LIMIT 1))
