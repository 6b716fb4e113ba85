FORMAT('%t', `${column}`)
