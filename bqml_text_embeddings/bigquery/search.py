"""Semantic search over rows a model embedded, the tutorial's sample tables and a corpus's tables alike.

VECTOR_SEARCH compares the query text, embedded by the same model in the same statement, with
the rows' `embedding` by cosine distance. A search is offered two ways: a query with parameters
@query and @k (a stack output, ready to paste), and a table function `f(query_text, k)` for plain
SQL callers.
"""

from __future__ import annotations

from dataclasses import dataclass

from bqml_text_embeddings.bigquery import sql
from bqml_text_embeddings.bigquery.embedding import Embedder, Purpose


@dataclass(frozen=True)
class Search:
    embedder: Embedder  # the model that embedded the rows, and embeds the query
    base: sql.Fragment  # the rows searched: a table, or a query over one
    columns: tuple[str, ...]  # what each hit returns besides its distance
    kind: str  # what is searched, as its heading says: "table", "corpus"
    name: str
    model: str

    def nearest(self, text: str, k: str) -> sql.Fragment:
        """The `k` rows nearest `text` (@query / query_text, and @k / k)."""
        query = self.embedder.embed(sql.render("search_text", text=text), Purpose.QUERY)
        columns = sql.join((sql.render("search_column", column=column) for column in self.columns), ", ")
        return sql.render("vector_search", columns=columns, base=self.base, query_embedding=query, k=k)

    def _heading(self) -> dict[str, str]:
        return {"kind": self.kind, "name": self.name, "model": self.model}

    def query(self) -> str:
        """The search as a query with parameters @query and @k."""
        return str(sql.render("search_query", **self._heading(), search=self.nearest("@query", "@k")))

    def function(self, function_id: str) -> str:
        """The statement that makes the search a table function `function_id`(query_text, k)."""
        return str(sql.render("search_function", **self._heading(), function=function_id, search=self.nearest("query_text", "k")))
