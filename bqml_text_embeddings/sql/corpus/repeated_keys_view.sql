-- Keys of corpus ${corpus}'s source that more than one row holds: one row per key embeds (corpora.${corpus}.newestBy picks it).
CREATE OR REPLACE VIEW `${view}`
OPTIONS (description = 'Keys of ${source_table} held by more than one row: only one of them is embedded')
AS
${repeated_keys}
ORDER BY copies DESC, doc_id;
