-- Refresh corpus ${corpus} with ${model} now (the scheduled query runs the same).
CALL `${procedure}`();
