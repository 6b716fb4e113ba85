-- Inside the batch's transaction, a read of its snapshot: a takeover that committed after the renewal
-- stops the batch before it writes anything.
SELECT COUNT(*) FROM `${lease}` WHERE model = '${model}' AND holder = run_id
