SELECT doc_id, content, content_fingerprint, previous_attempts FROM _todo WHERE slot >= ${low} AND slot < ${high}
