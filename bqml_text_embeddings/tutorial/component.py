"""Google's "Generate text embeddings with pretrained TensorFlow models" as one component.

The tutorial's steps, in order: the APIs, a dataset and a bucket; NNLM and SWIVEL
built from TF Hub and imported into BigQuery ML; BERT on a Vertex AI endpoint behind
a connection and a remote model; Vertex AI's managed model beside them; sample
embeddings of IMDB reviews, semantic search over them, and every model's embeddings
measured side by side on one task.
"""

from typing import NotRequired, TypedDict

import pulumi

from bqml_text_embeddings.bigquery import sql
from bqml_text_embeddings.bigquery.embedding import Purpose, ServedModel
from bqml_text_embeddings.models.bert import BertEmbeddingModel
from bqml_text_embeddings.models.connection import VertexConnection
from bqml_text_embeddings.models.managed import ManagedEmbeddingModel
from bqml_text_embeddings.models.tfhub import TfHubEmbeddingModel
from bqml_text_embeddings.naming import connection_id
from bqml_text_embeddings.tutorial.evaluation import EmbeddingQuality
from bqml_text_embeddings.tutorial.foundation import Foundation
from bqml_text_embeddings.tutorial.samples import PASTE_ROWS, SamplePredictions, lives_apart, sample_rows
from bqml_text_embeddings.tutorial.search import SemanticSearch
from bqml_text_embeddings.tutorial.spec import TutorialSpec, spec_of

TYPE = "bqml-text-embeddings:index:TextEmbeddingsTutorial"
# The types and parents these had before the tutorial was one component: aliases keep their URNs.
LEGACY_TYPES = {
    Foundation: "bqml-text-embeddings:index:Foundation",
    VertexConnection: "bqml-text-embeddings:bigquery:VertexConnection",
    TfHubEmbeddingModel: "bqml-text-embeddings:bigquery:ImportedModel",
    BertEmbeddingModel: "bqml-text-embeddings:vertex:BertServing",
    ManagedEmbeddingModel: "bqml-text-embeddings:bigquery:ManagedEmbedding",
    SamplePredictions: "bqml-text-embeddings:bigquery:SamplePredictions",
    SemanticSearch: "bqml-text-embeddings:bigquery:SemanticSearch",
    EmbeddingQuality: "bqml-text-embeddings:bigquery:EmbeddingQuality",
}


class SamplePredictionsArgs(TypedDict):
    rows: NotRequired[int]
    """Rows each model embeds into MODEL_sample_embeddings (default 500; 0 turns samples, search and paste-ready queries off)."""
    table: NotRequired[str]
    """The table the rows come from, project.dataset.table (default bigquery-public-data.imdb.reviews); readable from `location`."""
    column: NotRequired[str]
    """Its STRING column to embed (default review)."""


class BertArgs(TypedDict):
    machine_type: NotRequired[str]
    """The endpoint's machine type (default n1-standard-2)."""
    min_replicas: NotRequired[int]
    """Replicas always deployed (default 1)."""
    max_replicas: NotRequired[int]
    """Replicas at most, 1 to 10 (default 1)."""
    runtime: NotRequired[str]
    """What serves BERT: tf-serving-2.20 (default) or prebuilt-tf2-cpu.2-15."""
    serving_image: NotRequired[str]
    """An Artifact Registry image of yours in `region` to serve with instead of the runtime's own."""
    remote_model_location: NotRequired[str]
    """endpoint-region (default: BERT's remote model and what queries it in a dataset in `region`) or dataset (in `dataset`, as the tutorial does)."""


class TextEmbeddingArgs(TypedDict):
    endpoint: NotRequired[str]
    """The Vertex AI managed embedding model behind `textembedding` (default text-embedding-005)."""


class EvaluationArgs(TypedDict):
    rows: NotRequired[int]
    """Labelled IMDB reviews each model embeds per split, half of each label: an even number from 20 to 25,000 (default 1,000); 0 turns it off."""


class TextEmbeddingsTutorialArgs(TypedDict):
    project: str
    """The Google Cloud project everything is made in."""
    region: NotRequired[str]
    """The Vertex AI region of BERT's endpoint, bucket and dataset (default us-central1)."""
    location: NotRequired[str]
    """The BigQuery location of the dataset, the connection and the bucket: US (default), EU or a region."""
    dataset: NotRequired[str]
    """The dataset the models, samples and figures live in (default tf_models_tutorial)."""
    models: NotRequired[list[str]]
    """Which of nnlm, swivel, bert, textembedding to deploy (default nnlm and swivel): BERT bills an endpoint by the hour, textembedding per call."""
    model_sources: NotRequired[dict[str, str]]
    """Overrides of TF Hub handles, by key nnlm, swivel, bertPreprocess, bertEncoder (mirrors, air-gapped builds)."""
    build_dir: NotRequired[str]
    """Where built SavedModels are cached, relative to the program (default .build)."""
    build_jobs: NotRequired[int]
    """How many cold models build at once, each in a process of its own; 0 (default) is one per core."""
    sample_predictions: NotRequired[SamplePredictionsArgs]
    """Sample embeddings, search and the paste-ready queries."""
    bert: NotRequired[BertArgs]
    """BERT on Vertex AI: its endpoint's size, its runtime, where its remote model lives."""
    text_embedding: NotRequired[TextEmbeddingArgs]
    """Vertex AI's managed embedding model."""
    evaluation: NotRequired[EvaluationArgs]
    """Every model measured on one task: a LOGISTIC_REG sentiment classifier on its embeddings."""
    apis: NotRequired[list[str]]
    """More Google APIs to turn on with the tutorial's own, e.g. iam.googleapis.com and bigquerydatatransfer.googleapis.com for an EmbeddedCorpus."""


class ModelQuality(TypedDict):
    dims: int
    """The model's vector length."""
    rows: int
    """Reviews it embedded."""
    failed_rows: int
    """Reviews it did not embed."""
    accuracy: float
    """The classifier's accuracy on the test split."""
    precision: float
    """Its precision."""
    recall: float
    """Its recall."""
    f1_score: float
    """Its F1 score."""
    roc_auc: float
    """Its area under the ROC curve."""
    log_loss: float
    """Its log loss."""
    measured_at: str
    """When BigQuery measured it (ISO 8601)."""


class TextEmbeddingsTutorial(pulumi.ComponentResource):
    """Google's BigQuery ML tutorial "Generate text embeddings with pretrained TensorFlow models" as one component: NNLM and SWIVEL imported into BigQuery, BERT served from Vertex AI behind a remote model, Vertex AI's managed model, sample embeddings, semantic search and every model's quality side by side."""

    dataset: pulumi.Output[str]
    """project.dataset of the models, samples and figures."""
    bucket: pulumi.Output[str]
    """The bucket the SavedModels are uploaded to."""
    model_ids: pulumi.Output[dict[str, str]]
    """Each model's BigQuery model, by model."""
    embedding_models: pulumi.Output[dict[str, str]]
    """Each model for an EmbeddedCorpus's `models`, by model."""
    connection: pulumi.Output[str]
    """The connection the remote models in `dataset` call Vertex AI through (empty without one)."""
    sample_tables: pulumi.Output[dict[str, str]]
    """Each model's sample embeddings table, by model."""
    search_queries: pulumi.Output[dict[str, str]]
    """Each model's semantic search over its samples, with parameters @query and @k, by model."""
    search_functions: pulumi.Output[dict[str, str]]
    """Each model's search table function, by model."""
    predict_queries: pulumi.Output[dict[str, str]]
    """Each model's embeddings of ten sample rows, ready to paste into the console, by model."""
    embedding_quality_table: pulumi.Output[str]
    """The table of every model's figures side by side (empty with the evaluation off)."""
    embedding_quality: pulumi.Output[dict[str, ModelQuality]]
    """The figures as BigQuery has them after this update, by model."""
    console_links: pulumi.Output[dict[str, str]]
    """Links to the dataset, the bucket and BERT's endpoint in the console."""

    def __init__(self, name: str, args: TextEmbeddingsTutorialArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        spec = spec_of(args, f"TextEmbeddingsTutorial {name}")
        super().__init__(TYPE, name, None, opts)
        declare(self, spec, legacy=name == "tutorial")


def _child(parent: pulumi.Resource, component: type, legacy: bool, depends_on: list | None = None) -> pulumi.ResourceOptions:
    """A step's options; in the stack made before the tutorial was one component, its old type and place."""
    aliases = [pulumi.Alias(type_=LEGACY_TYPES[component], parent=pulumi.ROOT_STACK_RESOURCE)] if legacy else None
    return pulumi.ResourceOptions(parent=parent, aliases=aliases, depends_on=depends_on)


def declare(tutorial: TextEmbeddingsTutorial, spec: TutorialSpec, legacy: bool) -> None:
    p = spec.project
    base = Foundation("tutorial", spec, opts=_child(tutorial, Foundation, legacy))
    connection, bert_connection = _connections(tutorial, spec, base, legacy)
    served = _models(tutorial, spec, base, connection, bert_connection, legacy)
    bert = served.get("bert")
    assert bert is None or isinstance(bert, BertEmbeddingModel)
    tutorial.dataset = pulumi.Output.from_input(f"{p}.{spec.dataset}")
    tutorial.bucket = base.bucket.name
    tutorial.model_ids = pulumi.Output.from_input({model: component.model_id for model, component in served.items()})
    tutorial.embedding_models = pulumi.Output.from_input({model: component.embedding_model for model, component in served.items()})
    tutorial.connection = pulumi.Output.from_input(connection.reference_id if connection else "")
    tutorial.served = served
    tutorial.services = base.services
    tutorial.dataset_resource = base.dataset
    tutorial.connection_component = connection
    samples: dict[str, SamplePredictions] = {}
    if spec.samples.enabled:
        samples = {
            model: SamplePredictions(
                f"{model}-samples", spec, model, component, base.dataset_for(model), opts=_child(tutorial, SamplePredictions, legacy)
            )
            for model, component in served.items()
        }
    searches = {model: SemanticSearch(model, spec, served[model], s, opts=_child(tutorial, SemanticSearch, legacy)) for model, s in samples.items()}
    tutorial.sample_tables = pulumi.Output.from_input({model: s.table_id for model, s in samples.items()})
    tutorial.search_queries = pulumi.Output.from_input({model: search.query for model, search in searches.items()})
    tutorial.search_functions = pulumi.Output.from_input({model: search.function_id for model, search in searches.items()})
    # A model that lives apart reads its ten rows from the sample rows' copy, made only with samples on.
    tutorial.predict_queries = pulumi.Output.from_input(
        {
            model: component.embedder.apply(
                lambda embedder, model=model: str(
                    sql.render("embedding_query", embeddings=embedder.embed(sample_rows(spec, model, PASTE_ROWS), Purpose.DOCUMENT))
                )
            )
            for model, component in served.items()
            if spec.samples.enabled or not lives_apart(spec, model)
        }
    )
    quality = None
    if spec.evaluation.enabled:
        datasets = {model: base.dataset_for(model) for model in served}
        quality = EmbeddingQuality("embedding-quality", spec, served, base.dataset, datasets, opts=_child(tutorial, EmbeddingQuality, legacy))
    tutorial.embedding_quality_table = pulumi.Output.from_input(quality.table_id if quality else "")
    tutorial.embedding_quality = quality.figures if quality else pulumi.Output.from_input({})
    links = {
        "dataset": _dataset_link(p, spec.dataset),
        "bucket": pulumi.Output.concat("https://console.cloud.google.com/storage/browser/", base.bucket.name, f"?project={p}"),
    }
    tutorial.bert_dataset = f"{p}.{spec.dataset_of('bert')}" if spec.bert_apart else None
    tutorial.bert_connection = bert_connection.reference_id if spec.bert_apart and bert_connection else None
    tutorial.bert = bert
    if spec.bert_apart:
        links["bertDataset"] = _dataset_link(p, spec.dataset_of("bert"))
    if bert is not None:
        links["bertEndpoint"] = pulumi.Output.concat(
            f"https://console.cloud.google.com/vertex-ai/online-prediction/locations/{spec.region}/endpoints/",
            bert.endpoint.name,
            f"?project={p}",
        )
    tutorial.console_links = pulumi.Output.from_input(links)
    tutorial.register_outputs(
        {
            "dataset": tutorial.dataset,
            "bucket": tutorial.bucket,
            "model_ids": tutorial.model_ids,
            "embedding_models": tutorial.embedding_models,
            "connection": tutorial.connection,
            "sample_tables": tutorial.sample_tables,
            "search_queries": tutorial.search_queries,
            "search_functions": tutorial.search_functions,
            "predict_queries": tutorial.predict_queries,
            "embedding_quality_table": tutorial.embedding_quality_table,
            "embedding_quality": tutorial.embedding_quality,
            "console_links": tutorial.console_links,
        }
    )


def _connections(
    tutorial: TextEmbeddingsTutorial, spec: TutorialSpec, base: Foundation, legacy: bool
) -> tuple[VertexConnection | None, VertexConnection | None]:
    """The stack's connection for remote models in `dataset`, and BERT's (its own where BERT lives apart)."""
    p, api = spec.project, base.services.get
    connection = None
    if spec.with_stack_connection:
        connection = VertexConnection(
            "vertex",
            {"project": p, "location": spec.location, "connection_id": connection_id(spec.dataset), "friendly_name": "Vertex AI for the stack's remote models"},
            _child(tutorial, VertexConnection, legacy, [api("bigqueryconnection.googleapis.com")]),
        )
    # BERT in a dataset of its own in gcp:region has its own connection there (docs/bert-placement.md).
    bert_connection = connection
    if spec.bert_apart:
        bert_connection = VertexConnection(
            "bert-vertex",
            {"project": p, "location": spec.region, "connection_id": connection_id(spec.dataset_of("bert")), "friendly_name": "Vertex AI for BERT's remote model"},
            _child(tutorial, VertexConnection, legacy, [api("bigqueryconnection.googleapis.com")]),
        )
    return connection, bert_connection


def _models(
    tutorial: TextEmbeddingsTutorial,
    spec: TutorialSpec,
    base: Foundation,
    connection: VertexConnection | None,
    bert_connection: VertexConnection | None,
    legacy: bool,
) -> dict[str, ServedModel]:
    """Each model of `spec.models`, served in its dataset."""
    p, api, dataset_id = spec.project, base.services.get, base.dataset.dataset_id
    served: dict[str, ServedModel] = {}
    for model in spec.models:
        if model == "bert":
            assert bert_connection is not None
            bert_dataset = base.dataset_for(model)
            served[model] = BertEmbeddingModel(
                "bert",
                {
                    "project": p,
                    "region": spec.region,
                    "location": spec.location_of("bert"),
                    "dataset": bert_dataset.dataset_id,
                    "connection": bert_connection.reference,
                    "machine_type": spec.bert.machine_type,
                    "min_replicas": spec.bert.min_replicas,
                    "max_replicas": spec.bert.max_replicas,
                    "runtime": spec.bert.runtime,
                    **({"serving_image": spec.bert.serving_image} if spec.bert.serving_image else {}),
                    "sources": spec.sources_for("bert"),
                    "build_dir": str(spec.build_dir),
                },
                _child(
                    tutorial,
                    BertEmbeddingModel,
                    legacy,
                    [bert_dataset, *bert_connection.ready, *filter(None, map(api, ("storage.googleapis.com", "aiplatform.googleapis.com", "artifactregistry.googleapis.com")))],
                ),
            )
        elif model == "textembedding":
            assert connection is not None
            served[model] = ManagedEmbeddingModel(
                model,
                {"project": p, "location": spec.location, "dataset": dataset_id, "connection": connection.reference, "endpoint": spec.text_embedding.endpoint},
                _child(tutorial, ManagedEmbeddingModel, legacy, [base.dataset, *connection.ready, api("aiplatform.googleapis.com")]),
            )
        else:
            served[model] = TfHubEmbeddingModel(
                model,
                {
                    "model": model,
                    "project": p,
                    "location": spec.location,
                    "dataset": dataset_id,
                    "bucket": base.bucket.name,
                    "sources": spec.sources_for(model),
                    "build_dir": str(spec.build_dir),
                },
                _child(tutorial, TfHubEmbeddingModel, legacy, [base.dataset]),
            )
    return served


def _dataset_link(project: str, dataset: str) -> str:
    return f"https://console.cloud.google.com/bigquery?project={project}&ws=!1m4!1m3!3m2!1s{project}!2s{dataset}"
