-- The model's answer for every row of the batch that has text: its embedding, and why it failed
-- ('' when it worked). Only these rows are sent to the model.
SELECT doc_id, embedding, ${error} AS error
FROM (
${embedded})
