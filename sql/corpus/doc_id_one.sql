CAST(`${column}` AS STRING)
