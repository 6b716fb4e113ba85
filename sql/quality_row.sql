SELECT * FROM `${table}`
