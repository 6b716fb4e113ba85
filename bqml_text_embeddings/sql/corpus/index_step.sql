    -- The vector index, once the table qualifies. An index that cannot be made leaves a run whose batches
    -- all committed done, with the reason in its outcome.
    BEGIN
      ${index}
    EXCEPTION WHEN ERROR THEN
      SET outcome = CONCAT(outcome, '; the vector index was not made: ', @@error.message);
    END;
