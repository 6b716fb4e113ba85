SELECT ${doc_id} AS doc_id FROM `${table}` WHERE ${key_present}
