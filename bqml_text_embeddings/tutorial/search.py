"""After the tutorial: semantic search over a model's sample embeddings (bigquery/search.py), ready to run:
the query as an output, and a table function `search_<model>(query_text, k)`."""

import pulumi

from bqml_text_embeddings.bigquery.embedding import Embedder, ServedModel
from bqml_text_embeddings.bigquery.search import Search
from bqml_text_embeddings.bigquery.statement import SqlStatement
from bqml_text_embeddings.naming import search_function_id
from bqml_text_embeddings.tutorial.samples import SamplePredictions
from bqml_text_embeddings.tutorial.spec import TutorialSpec as Settings


def _search(embedder: Embedder, table: str, model: str) -> Search:
    return Search(embedder, embedder.searchable(table), ("content",), "table", table.rsplit(".", 1)[1], model)


class SemanticSearch(pulumi.ComponentResource):
    def __init__(
        self,
        model: str,
        settings: Settings,
        served: ServedModel,
        samples: SamplePredictions,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("bqml-text-embeddings:bigquery:SemanticSearch", f"{model}-search", None, opts)
        self.query = served.embedder.apply(lambda e: _search(e, samples.table_id, model).query())
        self.function_id = search_function_id(settings, model)
        self.function = SqlStatement(
            f"{model}-search-function",
            project=settings.project,
            location=settings.location_of(model),
            sql_text=served.embedder.apply(lambda e: _search(e, samples.table_id, model).function(self.function_id)),
            makes=("TABLE FUNCTION", self.function_id),
            depends_on=[samples.statement.ready, served.ready],
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"function_id": self.function_id})
