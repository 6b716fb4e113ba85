-- One row per model, side by side: what `pulumi stack output embeddingQuality` shows.
CREATE OR REPLACE TABLE `${table}` AS
${rows};
