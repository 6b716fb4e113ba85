SELECT * FROM `${table}` ORDER BY model
