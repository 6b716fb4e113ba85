`${column}`
