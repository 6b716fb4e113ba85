-- Whether rows of another model version are kept: only then can a batch meet vectors of another length.
SELECT EXISTS (SELECT 1 FROM `${embeddings}` WHERE model_version != '${model_version}') AS found
