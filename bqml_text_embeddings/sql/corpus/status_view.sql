-- Corpus ${corpus} at a glance, one row per model: source rows = embedded + pending + failed.
CREATE OR REPLACE VIEW `${view}`
OPTIONS (description = 'Embedding status of corpus ${corpus}: rows embedded, pending and failed per model, and the last refresh')
AS
${models};
