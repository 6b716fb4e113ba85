`${column}` IS NOT NULL
