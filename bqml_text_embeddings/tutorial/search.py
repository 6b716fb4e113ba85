"""After the tutorial: semantic search over a model's sample embeddings, ready to run.

VECTOR_SEARCH compares the query text, embedded by the same model in the same
statement, with the sample table's `embedding`, by cosine distance. The stack
outputs the query (parameters @query and @k); a table function
`search_<model>(query_text, k)` wraps the same search for plain SQL callers.
"""

import pulumi

from bqml_text_embeddings.bigquery import sql
from bqml_text_embeddings.bigquery.embedding import Embedder, Purpose
from bqml_text_embeddings.bigquery.statement import SqlStatement
from bqml_text_embeddings.naming import search_function_id
from bqml_text_embeddings.tutorial.samples import SamplePredictions, ServedModel
from bqml_text_embeddings.tutorial.spec import TutorialSpec as Settings


def _search(embedder: Embedder, table: str, text: str, k: str) -> sql.Fragment:
    query = embedder.embed(sql.render("search_text", text=text), Purpose.QUERY)
    return sql.render("vector_search", base=embedder.searchable(table), query_embedding=query, k=k)


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
        self.query = served.embedder.apply(lambda e: str(sql.render("search_query", search=_search(e, samples.table_id, "@query", "@k"))))
        self.function_id = search_function_id(settings, model)
        self.function = SqlStatement(
            f"{model}-search-function",
            project=settings.project,
            location=settings.location_of(model),
            sql_text=served.embedder.apply(
                lambda e: str(sql.render("search_function", function=self.function_id, search=_search(e, samples.table_id, "query_text", "k")))
            ),
            makes=("TABLE FUNCTION", self.function_id),
            depends_on=[samples.statement.statement, served.ready],
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"function_id": self.function_id})
