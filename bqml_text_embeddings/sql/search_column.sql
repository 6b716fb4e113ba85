base.${column}
