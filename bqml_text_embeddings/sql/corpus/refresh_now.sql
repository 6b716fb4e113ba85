-- Refresh corpus ${corpus} with ${model} now (the scheduled query runs the same). NULL: delete at most
-- corpora.${corpus}.maxDeletePercent of the corpus; CALL it once with 100 after truly emptying the table.
CALL `${procedure}`(NULL);
