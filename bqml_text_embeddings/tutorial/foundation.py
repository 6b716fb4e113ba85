"""Tutorial step 1: the APIs, the dataset and the bucket; BERT's dataset in gcp:region when it lives apart."""

import pulumi
import pulumi_gcp as gcp

from bqml_text_embeddings.naming import LABELS
from bqml_text_embeddings.tutorial.spec import TutorialSpec as Settings


class Foundation(pulumi.ComponentResource):
    def __init__(self, name: str, settings: Settings, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("bqml-text-embeddings:index:Foundation", name, None, opts)
        apis = ["bigquery.googleapis.com", "storage.googleapis.com"]
        if settings.with_connection:
            apis += ["bigqueryconnection.googleapis.com", "aiplatform.googleapis.com"]
        apis += [api for api in settings.apis if api not in apis]  # what the program's other components need
        if settings.with_bert and settings.bert.mirrors_image:
            apis += ["artifactregistry.googleapis.com"]  # the remote repository TensorFlow Serving's image comes through
        # Never disabled on destroy: other work in the project may use them.
        self.services = {
            api: gcp.projects.Service(
                f"api-{api.split('.')[0]}",
                project=settings.project,
                service=api,
                disable_on_destroy=False,
                disable_dependent_services=False,
                opts=pulumi.ResourceOptions(parent=self),
            )
            for api in apis
        }
        after_apis = pulumi.ResourceOptions(parent=self, depends_on=list(self.services.values()))
        self.dataset = gcp.bigquery.Dataset(
            "dataset",
            project=settings.project,
            dataset_id=settings.dataset,
            location=settings.location,
            description="Text-embedding models, their sample embeddings and quality, made by bqml-text-embeddings.",
            labels=LABELS,
            delete_contents_on_destroy=True,
            opts=after_apis,
        )
        # BigQuery reaches a model deployed to Vertex AI from a dataset in the endpoint's region, not
        # from a multi-region (docs/bert-placement.md): BERT and what queries it get a dataset there.
        self.bert_dataset = (
            gcp.bigquery.Dataset(
                "bert-dataset",
                project=settings.project,
                dataset_id=settings.dataset_of("bert"),
                location=settings.region,
                description=f"BERT's remote model, its sample embeddings and quality, beside its endpoint in {settings.region}; "
                f"made by bqml-text-embeddings with {settings.dataset}.",
                labels=LABELS,
                delete_contents_on_destroy=True,
                opts=after_apis,
            )
            if settings.bert_apart
            else None
        )
        self.bucket = gcp.storage.Bucket(
            "models",
            project=settings.project,
            location=settings.location,
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            force_destroy=True,
            labels=LABELS,
            opts=after_apis,
        )
        self.register_outputs({"dataset": self.dataset.dataset_id, "bucket": self.bucket.name})

    def dataset_for(self, model: str) -> gcp.bigquery.Dataset:
        """The dataset a model and what queries it live in."""
        return self.bert_dataset if model == "bert" and self.bert_dataset is not None else self.dataset
