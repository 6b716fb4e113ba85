"""Running BigQuery statements: the statement resource, the jobs under it, the SQL templates."""
