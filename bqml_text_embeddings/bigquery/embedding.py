"""How each kind of model is asked for embeddings in SQL, so every caller gets the same columns.

Whatever a function calls its vector, the rows come back as `content`,
`embedding` (ARRAY<FLOAT64>), the function's status column where it has one,
then every other column of the input rows. One query then works on any model.

An `Embedder` is also how one component hands a model to another: a model
component's `embeddingModel` output is its `reference()`, a JSON string any
Pulumi language can pass on, and a corpus reads it back with `from_reference`.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Protocol

import pulumi

from bqml_text_embeddings import validate
from bqml_text_embeddings.bigquery import sql


class Purpose(enum.StrEnum):
    """What the vectors are for; managed models embed differently for each (task_type)."""

    DOCUMENT = "RETRIEVAL_DOCUMENT"
    QUERY = "RETRIEVAL_QUERY"
    CLASSIFICATION = "CLASSIFICATION"


class Kind(enum.StrEnum):
    """How BigQuery reaches the model: imported into it, a remote model over an endpoint of yours, or Google's."""

    IMPORTED = "imported"
    ENDPOINT = "endpoint"
    MANAGED = "managed"


# sql/embed_*.sql and the status column each kind's function reports failures in (none: a whole statement fails).
_SHAPES = {
    Kind.IMPORTED: ("embed_imported", None),
    Kind.ENDPOINT: ("embed_endpoint", "remote_model_status"),
    Kind.MANAGED: ("embed_managed", "status"),
}


@dataclass(frozen=True)
class Embedder:
    model_id: str  # project.dataset.model
    kind: Kind
    output_column: str | None = None  # an imported model's signature output
    dims: int | None = None  # the length of every vector it returns, where the stack knows it
    version: str = ""  # changes whenever the model would answer differently: corpora embed again

    @property
    def template(self) -> str:
        return _SHAPES[self.kind][0]

    @property
    def status_column(self) -> str | None:
        return _SHAPES[self.kind][1]

    @property
    def remote(self) -> bool:
        """Called through a BigQuery connection (its users need connectionUser on it)."""
        return self.kind != Kind.IMPORTED

    def embed(self, rows: sql.Fragment, purpose: Purpose) -> sql.Fragment:
        """Rows with a `content` column, embedded."""
        params: dict[str, str | int] = {"model": self.model_id, "rows": rows}
        if self.output_column is not None:
            params["output_column"] = self.output_column
        if self.template == "embed_managed":
            params["task_type"] = purpose.value
        return sql.render(self.template, **params)

    def error(self) -> sql.Fragment:
        """Why a row was not embedded ('' when it was): the model's status column; an imported model fails whole statements instead."""
        if self.status_column is None:
            return sql.render("corpus/error_none")
        return sql.render("corpus/error_column", column=self.status_column)

    def searchable(self, table: str) -> sql.Fragment:
        """The table's rows VECTOR_SEARCH may read: all, or those the model embedded."""
        if self.status_column is None:
            return sql.render("search_base_all", table=table)
        return sql.render("search_base_embedded", table=table, status_column=self.status_column)

    def reference(self) -> str:
        """The model as a JSON string: what a model component outputs as `embeddingModel`."""
        return json.dumps({k: v for k, v in asdict(self).items() if v is not None}, sort_keys=True)

    @classmethod
    def from_reference(cls, text: str) -> Embedder:
        """A model from its `embeddingModel` output; a ValueError naming what is wrong otherwise."""
        try:
            fields = json.loads(text)
            kind = Kind(fields.get("kind"))
        except (TypeError, ValueError):
            raise ValueError(f"{text!r} is not an embedding model reference: pass a model component's embeddingModel output") from None
        unknown = set(fields) - {"model_id", "kind", "output_column", "dims", "version"}
        problems = [f"unknown field(s) {sorted(unknown)}"] if unknown else []
        parts = str(fields.get("model_id", "")).split(".")
        if len(parts) != 3 or validate.project_id(parts[0]) or validate.dataset_id(parts[1]) or validate.dataset_id(parts[2]):
            problems.append(f"model_id {fields.get('model_id')!r} is not project.dataset.model")
        if kind == Kind.IMPORTED and validate.column(fields.get("output_column")):
            problems.append("an imported model needs its output_column")
        if "dims" in fields and validate.whole(fields["dims"], 1, 100_000):
            problems.append(f"dims {fields['dims']!r} is not a vector length")
        if problems:
            raise ValueError(f"embedding model reference {text!r}: {'; '.join(problems)}")
        return cls(
            model_id=fields["model_id"],
            kind=kind,
            output_column=fields.get("output_column"),
            dims=fields.get("dims"),
            version=str(fields.get("version", "")),
        )


def model_version(versions: Sequence[str]) -> str:
    """A short stable name for what a model would answer (its SQL, its deployment): a change re-embeds."""
    return hashlib.sha256("\n".join(versions).encode()).hexdigest()[:16]


# Vertex AI's managed embedding models and the length of their vectors by default (Vertex AI,
# "Get text embeddings"); another endpoint's length is learnt from its first vectors.
MANAGED_DIMS = {
    "text-embedding-005": 768,
    "text-embedding-004": 768,
    "text-multilingual-embedding-002": 768,
    "gemini-embedding-001": 3072,
}


def imported(model_id: str, output_column: str, dims: int, version: str = "") -> Embedder:
    return Embedder(model_id, Kind.IMPORTED, output_column=output_column, dims=dims, version=version)


def endpoint(model_id: str, dims: int, version: str = "") -> Embedder:
    return Embedder(model_id, Kind.ENDPOINT, dims=dims, version=version)


def managed(model_id: str, endpoint_name: str, version: str = "") -> Embedder:
    return Embedder(model_id, Kind.MANAGED, dims=MANAGED_DIMS.get(endpoint_name), version=version)


class ServedModel(Protocol):
    """What the statements that embed with a model need of it (TfHubEmbeddingModel, BertEmbeddingModel, ManagedEmbeddingModel)."""

    model_id: pulumi.Output[str]
    embedder: pulumi.Output[Embedder]
    ready: pulumi.Resource  # the statement that made the BigQuery model
    versions: list[pulumi.Output[str]]  # change whenever the model would answer differently
