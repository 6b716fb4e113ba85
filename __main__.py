"""bqml-text-embeddings: the BigQuery ML text-embedding tutorial as one `pulumi up`."""

import pulumi

from stack.program import configure, declare

# 1. Read and validate the stack's config; build (or find cached) the SavedModels.
settings = configure()

# 2. Declare every tutorial step: APIs, dataset, bucket, models, BERT serving, samples.
outputs = declare(settings)

# 3. Export ids, ready-to-paste queries and console links.
for name, value in outputs.items():
    pulumi.export(name, value)
