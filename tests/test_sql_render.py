"""sql.render's second check, and samplePredictions.column read as a column whatever its name."""

from __future__ import annotations

from pathlib import Path

import pytest

from bqml_text_embeddings.bigquery import sql
from bqml_text_embeddings.bigquery.sql import UnsafeSqlParameter
from tests.conftest import PROJECT
from tests.googlesql import Engine, Table

REVIEWS = "bigquery-public-data.imdb.reviews"


@pytest.mark.parametrize(
    "template, params",
    [
        ("sample_rows", {"column": "review", "source_table": REVIEWS, "rows": "5--"}),  # would comment out the rest
        ("sample_rows", {"column": "review", "source_table": REVIEWS, "rows": "5/*"}),
        ("sample_rows", {"column": "review", "source_table": REVIEWS, "rows": -1}),  # a sign joins the token before it
        ("sample_rows", {"column": "review", "source_table": REVIEWS, "rows": "5\n"}),  # `$` let a trailing newline by
        ("search_text", {"text": "@query--"}),
        ("search_text", {"text": "a.b"}),
        ("search_text", {"text": "1e5"}),
        ("vector_search", {"columns": sql.Fragment("base.content"), "base": sql.Fragment("TABLE `t`"), "query_embedding": sql.Fragment("SELECT 1"), "k": "5/**/"}),
        ("corpus/refresh_now", {"corpus": "tickets\n", "model": "nnlm", "procedure": "p.d.refresh"}),  # leaves its `--` line
        ("corpus/refresh_now", {"corpus": "tickets", "model": "nnlm", "procedure": "p.d.refresh`; DROP"}),
        ("create_tensorflow_model", {"model": "p.d.m", "model_path": "gs://b/m/*'"}),
        ("create_tensorflow_model", {"model": "p.d.m", "model_path": True}),
    ],
)
def test_a_value_that_would_change_the_statements_tokens_is_refused(template: str, params: dict) -> None:
    with pytest.raises(UnsafeSqlParameter, match=rf"^sql/{template}\.sql: parameter "):
        sql.render(template, **params)


def test_plain_values_still_render_where_they_stand() -> None:
    assert sql.render("sample_rows", column="review", source_table=REVIEWS, rows=5) == f"SELECT `review` AS content FROM `{REVIEWS}` LIMIT 5\n"
    assert sql.render("search_text", text="@query").strip() == "SELECT @query AS content"
    # In quotes a URL, a gs:// wildcard or a dashed path is one literal: `--` and `/*` cannot open a comment there.
    created = sql.render("create_tensorflow_model", model="p-1.d.m", model_path="gs://b--x/m/abc/*")
    assert "model_path = 'gs://b--x/m/abc/*'" in created and "`p-1.d.m`" in created


def test_each_parameter_is_judged_by_where_the_template_puts_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "probe.sql").write_text(
        "SELECT '--${a}', \"x\\\"${f}\", ${b} -- ${c} 'it\n/* ${d} */ `${e}` # ${g}\n${h}\n", encoding="utf-8"
    )
    monkeypatch.setattr(sql, "SQL_DIR", tmp_path)
    sql._template.cache_clear()
    try:
        _, places = sql._template("probe")
        assert places == {
            "a": {"string '"}, "f": {'string "'}, "b": {"bare"}, "c": {"line comment"}, "d": {"block comment"},
            "e": {"identifier `"}, "g": {"line comment"}, "h": {"bare"},
        }
        ok = {name: "x" for name in places}
        sql.render("probe", **{**ok, "a": "a--b", "c": "c/*", "e": "p-1.d.t", "f": "1.5"})
        for name, value in (("b", "b--"), ("h", "x-1"), ("d", "d*/"), ("c", "c\n")):
            with pytest.raises(UnsafeSqlParameter, match=rf"parameter {name}="):
                sql.render("probe", **{**ok, name: value})
    finally:
        sql._template.cache_clear()


# --- samplePredictions.column: an identifier, whatever it is called --------------------------------


@pytest.mark.parametrize("column", ["current_date", "select", "order", "review"])
def test_the_sample_column_is_read_as_a_column_on_googlesqls_engine(googlesql: Engine, column: str) -> None:
    """`current_date` unquoted is today's date, `select` and `order` do not parse: quoted, each is the column."""
    reviews = Table(columns=[(column, "STRING"), ("label", "STRING")], rows=[{column: "great film", "label": "Positive"}])
    rows = sql.render("sample_rows", column=column, source_table=REVIEWS, rows=10)
    result = googlesql.query(rows, {REVIEWS: reviews})
    assert result.columns == [("content", "STRING")]
    assert result.rows == [{"content": "great film"}]


@pytest.mark.parametrize("column", ["current_date", "select", "order"])
def test_every_statement_the_program_emits_with_such_a_column_parses(base_config: dict, googlesql: Engine, column: str) -> None:
    from tests.pulumi_harness import run_program

    run = run_program({**base_config, "models": ["nnlm", "swivel", "bert", "textembedding"], "samplePredictions": {"column": column}})
    statements = run.statements()
    samples = [name for name in statements if name.endswith("-sample-embeddings")]
    assert sorted(samples) == [f"{m}-sample-embeddings" for m in ("bert", "nnlm", "swivel", "textembedding")]
    for name, statement in statements.items():
        googlesql.parse(statement.inputs["sql"], script=True)
        googlesql.parse(statement.inputs["drop_sql"], script=False)
        if name in samples and name != "bert-sample-embeddings":
            assert f"SELECT `{column}` AS content FROM `{REVIEWS}` LIMIT 500" in statement.inputs["sql"]
    # BERT's samples live in its region (bert.remoteModelLocation): read there from a copy, made by this query.
    copy = run.named("bert-sample-source").inputs["query"]
    googlesql.parse(copy, script=False)
    assert f"SELECT `{column}` AS content FROM `{REVIEWS}` LIMIT 500" in copy
    for model, query in run.outputs["predictQueries"].items():
        googlesql.parse(query, script=False)
        assert f"SELECT `{column if model != 'bert' else 'content'}` AS content" in query  # BERT's: from its copy
    assert run.outputs["dataset"] == f"{PROJECT}.tf_models_tutorial"
