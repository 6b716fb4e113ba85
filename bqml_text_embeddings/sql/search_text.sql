SELECT ${text} AS content
