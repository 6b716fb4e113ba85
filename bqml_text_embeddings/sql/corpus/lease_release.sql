UPDATE `${lease}` SET holder = NULL, expires_at = NULL WHERE model = '${model}' AND holder = run_id
