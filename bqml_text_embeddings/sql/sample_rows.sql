SELECT `${column}` AS content FROM `${source_table}` LIMIT ${rows}
