"""NNLM or SWIVEL from TF Hub: built into a SavedModel, uploaded, imported into BigQuery ML (the tutorial's steps 2-3)."""

from typing import NotRequired, TypedDict

import pulumi

from bqml_text_embeddings import validate
from bqml_text_embeddings.args import checked, depends, optional, opts_after
from bqml_text_embeddings.bigquery import sql
from bqml_text_embeddings.bigquery.embedding import imported, model_version
from bqml_text_embeddings.bigquery.statement import SqlStatement
from bqml_text_embeddings.build import DEFAULT_BUILD_DIR, BuiltModel, Target, catalog, ensure_all_built
from bqml_text_embeddings.models.artifacts import ModelArtifact

TYPE = "bqml-text-embeddings:index:TfHubEmbeddingModel"
IMPORTABLE = tuple(name for name in catalog.MODELS if catalog.get(name).target == Target.BIGQUERY)


class TfHubEmbeddingModelArgs(TypedDict):
    model: str
    """Which TF Hub model: `nnlm` (nnlm-en-dim50-with-normalization, 50 dims) or `swivel` (gnews-swivel-20dim, 20 dims)."""
    project: str
    """The Google Cloud project of the dataset and the bucket."""
    location: str
    """The dataset's BigQuery location (US, EU or a region)."""
    dataset: pulumi.Input[str]
    """The id of the dataset the model is imported into."""
    bucket: pulumi.Input[str]
    """The Cloud Storage bucket the SavedModel's files are uploaded to; BigQuery reads them from there with the deployer's credentials."""
    sources: NotRequired[dict[str, str]]
    """Overrides of the TF Hub handles (mirrors, air-gapped builds): TF Hub URLs, gs:// paths or local SavedModel directories, by source key (`nnlm`, `swivel`)."""
    build_dir: NotRequired[str]
    """Where built SavedModels are cached, relative to the program (default `.build`)."""


class TfHubEmbeddingModel(pulumi.ComponentResource):
    """A TF Hub text-embedding model made a SavedModel by bigquery-ml-utils' TextEmbeddingModelGenerator, checked, uploaded and imported into BigQuery ML (`CREATE MODEL … model_type='TENSORFLOW'`)."""

    model_id: pulumi.Output[str]
    """The BigQuery model, project.dataset.MODEL_model: `ML.PREDICT(MODEL …)` embeds with it."""
    embedding_model: pulumi.Output[str]
    """This model for an EmbeddedCorpus's `models`: a JSON reference (id, kind, output column, dims, version)."""
    artifact_uri: pulumi.Output[str]
    """gs://BUCKET/MODEL_model/DIGEST/: the uploaded SavedModel; the digest changes when its bytes do."""

    def __init__(self, name: str, args: TfHubEmbeddingModelArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, None, opts)
        model, project, location, sources, build_dir = checked(
            f"TfHubEmbeddingModel {name}",
            args,
            model=lambda value: validate.one_of(value, IMPORTABLE),
            project=validate.project_id,
            location=validate.location,
            sources=optional(lambda value: None if isinstance(value, dict) else f"{value!r}: give an object of source handles"),
            build_dir=optional(lambda value: None if isinstance(value, str) and value else f"{value!r}: give a directory"),
        )
        built = built_model(model, sources, build_dir)
        self.model_id = pulumi.Output.from_input(args["dataset"]).apply(lambda dataset: f"{project}.{dataset}.{model}_model")
        self.artifact = ModelArtifact(f"{model}-savedmodel", built, args["bucket"], opts_after(self, opts))
        self.artifact_uri = self.artifact.uri
        model_path = self.artifact.uri.apply(lambda uri: f"{uri}*")
        self.statement = SqlStatement(
            f"{model}-create-model",
            project=project,
            location=location,
            sql_text=pulumi.Output.all(self.model_id, model_path).apply(
                lambda ids: str(sql.render("create_tensorflow_model", model=ids[0], model_path=ids[1]))
            ),
            makes=("MODEL", self.model_id),
            expect=model_path.apply(lambda path: {"modelUri": path}),
            depends_on=[*depends(opts), *self.artifact.objects],
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.ready = self.statement.ready
        self.versions = [self.statement.sql]  # the SQL names the artifact's digest
        self.embedder = pulumi.Output.all(self.model_id, *self.versions).apply(
            lambda values: imported(values[0], built.output_name, built.dims, model_version([str(v) for v in values[1:]]))
        )
        self.embedding_model = self.embedder.apply(lambda embedder: embedder.reference())
        self.register_outputs({"model_id": self.model_id, "embedding_model": self.embedding_model, "artifact_uri": self.artifact_uri})


def built_model(model: str, sources: dict[str, str] | None, build_dir: str | None) -> BuiltModel:
    """The model's checked build: cached already (a JSON read), else built now in a process of its own."""
    return ensure_all_built({model: sources}, build_dir or DEFAULT_BUILD_DIR, report=pulumi.log.info)[model]
