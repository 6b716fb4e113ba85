(SELECT * FROM `${embeddings}` WHERE model_version = '${model_version}')
