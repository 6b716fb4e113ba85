-- Tutorial step 3: import a TensorFlow SavedModel from Cloud Storage into BigQuery ML.
CREATE OR REPLACE MODEL `${model}`
OPTIONS (
  model_type = 'TENSORFLOW',
  model_path = '${model_path}');
