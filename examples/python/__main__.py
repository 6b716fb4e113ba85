"""A table of yours kept embedded by text-embedding-005, indexed and searchable: no tutorial, no TensorFlow."""

import pulumi
import pulumi_gcp as gcp

from bqml_text_embeddings import EmbeddedCorpus, ManagedEmbeddingModel, VertexConnection

project, table = gcp.config.project, pulumi.Config().require("table")
apis = [gcp.projects.Service(api, service=f"{api}.googleapis.com", disable_on_destroy=False)
        for api in ("bigquery", "bigqueryconnection", "aiplatform", "iam", "bigquerydatatransfer")]
dataset = gcp.bigquery.Dataset("embeddings", dataset_id="embeddings", location="US", opts=pulumi.ResourceOptions(depends_on=apis))
connection = VertexConnection("vertex", {"project": project, "location": "US", "connection_id": "embeddings_vertex"},
                              pulumi.ResourceOptions(depends_on=apis))
model = ManagedEmbeddingModel("textembedding", {"project": project, "location": "US", "dataset": dataset.dataset_id,
                                                "connection": connection.reference}, pulumi.ResourceOptions(depends_on=connection.ready))
corpus = EmbeddedCorpus("tickets", {"project": project, "location": "US", "dataset": dataset.dataset_id, "table": table,
                                    "key": ["ticket_id"], "text": "body", "models": {"textembedding": model.embedding_model},
                                    "connection": connection.reference, "schedule": "every 24 hours"},
                        pulumi.ResourceOptions(depends_on=apis))
pulumi.export("statusQuery", corpus.status_query)
pulumi.export("searchQueries", corpus.search_queries)
