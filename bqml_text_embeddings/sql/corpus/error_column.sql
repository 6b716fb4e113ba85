IFNULL(${column}, '')
