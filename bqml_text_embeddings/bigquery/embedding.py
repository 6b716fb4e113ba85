"""How each kind of model is asked for embeddings in SQL, so every caller gets the same columns.

Whatever a function calls its vector, the rows come back as `content`,
`embedding` (ARRAY<FLOAT64>), the function's status column where it has one,
then every other column of the input rows. One query then works on any model.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from bqml_text_embeddings.bigquery import sql


class Purpose(enum.StrEnum):
    """What the vectors are for; managed models embed differently for each (task_type)."""

    DOCUMENT = "RETRIEVAL_DOCUMENT"
    QUERY = "RETRIEVAL_QUERY"
    CLASSIFICATION = "CLASSIFICATION"


@dataclass(frozen=True)
class Embedder:
    model_id: str
    template: str  # sql/embed_*.sql
    status_column: str | None = None
    output_column: str | None = None  # an imported model's signature output
    dims: int | None = None  # the length of every vector it returns, where the stack knows it

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


# Vertex AI's managed embedding models and the length of their vectors by default (Vertex AI,
# "Get text embeddings"); another endpoint's length is learnt from its first vectors.
MANAGED_DIMS = {
    "text-embedding-005": 768,
    "text-embedding-004": 768,
    "text-multilingual-embedding-002": 768,
    "gemini-embedding-001": 3072,
}


def imported(model_id: str, output_column: str, dims: int) -> Embedder:
    return Embedder(model_id, "embed_imported", output_column=output_column, dims=dims)


def endpoint(model_id: str, dims: int) -> Embedder:
    return Embedder(model_id, "embed_endpoint", status_column="remote_model_status", dims=dims)


def managed(model_id: str, endpoint_name: str) -> Embedder:
    return Embedder(model_id, "embed_managed", status_column="status", dims=MANAGED_DIMS.get(endpoint_name))
