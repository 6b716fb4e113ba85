TABLE `${table}`
