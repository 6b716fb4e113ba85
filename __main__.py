"""bqml-text-embeddings: the BigQuery ML text-embedding tutorial as one `pulumi up`.

Read config -> build the SavedModels -> declare dataset, bucket, models and samples
-> export ids, queries and links. See infra/program.py.
"""

from infra.program import main

main()
