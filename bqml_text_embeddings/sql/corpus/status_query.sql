-- Corpus status: rows embedded, pending and failed per model, failures by reason, the last refresh.
SELECT * FROM `${view}` ORDER BY model
