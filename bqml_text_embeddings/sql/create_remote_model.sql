-- Tutorial step 4: a remote model over the Vertex AI endpoint that serves BERT.
-- INPUT names the request field (the SavedModel's signature input); with one output,
-- the response carries no field name, so OUTPUT may be named freely.
CREATE OR REPLACE MODEL `${model}`
INPUT(${input_column} STRING)
OUTPUT(embedding ARRAY<FLOAT64>)
REMOTE WITH CONNECTION `${connection}`
OPTIONS (
  ENDPOINT = '${endpoint}');
