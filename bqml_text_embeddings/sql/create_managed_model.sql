-- A remote model over a Vertex AI managed text embedding model (no endpoint of ours; billed per call).
CREATE OR REPLACE MODEL `${model}`
REMOTE WITH CONNECTION `${connection}`
OPTIONS (
  ENDPOINT = '${endpoint}');
