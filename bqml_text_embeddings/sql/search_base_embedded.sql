(SELECT * FROM `${table}` WHERE IFNULL(${status_column}, '') = '')
