"""The tutorial's small sections: samplePredictions, textEmbedding and evaluation."""

from __future__ import annotations

from typing import Any

from bqml_text_embeddings import validate
from bqml_text_embeddings.config.keys import EVALUATION, SAMPLES, TEXT_EMBEDDING
from bqml_text_embeddings.config.problems import Fail
from bqml_text_embeddings.config.rules import IMDB_REVIEWS, table_location
from bqml_text_embeddings.config.settings import EvaluationSettings, SampleSettings, TextEmbeddingSettings
from bqml_text_embeddings.config.unknown import merged


def parse_samples(value: Any, location: str | None, fail: Fail) -> SampleSettings:
    given = merged(value, SAMPLES, fail)
    table, column = given["table"], given["column"]
    rows, problem = SAMPLES["rows"].whole(given["rows"])
    if problem:
        fail("samplePredictions.rows", problem)
    if problem := validate.table_ref(table):
        fail("samplePredictions.table", problem)
    elif location and rows and (known := table_location(table)) and known != location:
        fail(
            "samplePredictions.table",
            f"{table} is in {known} and a query in a {location} dataset cannot read it: "
            f"set location to {known}, or point at a copy of the table in {location}",
        )
    if problem := validate.column(column):
        fail("samplePredictions.column", problem)
    return SampleSettings(rows=rows or 0, table=table, column=column)


def parse_text_embedding(value: Any, fail: Fail) -> TextEmbeddingSettings:
    endpoint = merged(value, TEXT_EMBEDDING, fail)["endpoint"]
    if problem := validate.endpoint_name(endpoint):
        fail("textEmbedding.endpoint", problem)
        endpoint = TEXT_EMBEDDING.default["endpoint"]
    return TextEmbeddingSettings(endpoint=endpoint)


def parse_evaluation(value: Any, location: str | None, fail: Fail) -> EvaluationSettings:
    raw = merged(value, EVALUATION, fail)["rows"]
    field = EVALUATION["rows"]
    rows = validate.as_int(raw)
    # 0 turns it off; else an even number (half of each label) within the bounds.
    if rows != 0 and (field.whole(raw)[1] or rows % 2):
        fail("evaluation.rows", f"{raw!r}: {field.fix}")
        return EvaluationSettings(rows=0)
    source_location = table_location(IMDB_REVIEWS)
    if rows and location and location != source_location:
        fail(
            "evaluation.rows",
            f"the evaluation reads {IMDB_REVIEWS}, which is in {source_location}, and a {location} dataset cannot: "
            f"set evaluation.rows to 0, or location to {source_location}",
        )
    return EvaluationSettings(rows=rows or 0)
