"""Where BERT's remote model may live: a place BigQuery reaches a Vertex AI deployed model from."""

from __future__ import annotations

from collections.abc import Sequence

from bqml_text_embeddings import locations, validate
from bqml_text_embeddings.config.problems import Fail
from bqml_text_embeddings.config.rules import ENDPOINT_REGION, MAX_COPIED_SAMPLE_ROWS
from bqml_text_embeddings.config.settings import CorpusSettings, SampleSettings, bert_apart, regional_dataset


def bert_placement(
    placement: str, location: str, region: str, dataset: object, samples: SampleSettings, corpora: Sequence[CorpusSettings], fail: Fail
) -> None:
    """Refuses a gcp:region BigQuery cannot reach BERT in, and what cannot follow BERT to a dataset of its own."""
    if region not in locations.REMOTE_MODEL_REGIONS:
        fail(
            "gcp:region",
            f"BigQuery reaches models deployed to Vertex AI only in {sorted(locations.REMOTE_MODEL_REGIONS)} "
            f"(its locations page, \"Locations for remote models\"), not {region}: choose one of those",
        )
    elif placement != ENDPOINT_REGION and not locations.endpoint_region_allowed(location, region):
        fail(
            "gcp:region",
            f"a BigQuery remote model in a {location} dataset cannot use a Vertex AI endpoint in {region}: "
            f"choose one of {locations.allowed_endpoint_regions(location)}, change location, or set "
            f"bert.remoteModelLocation to {ENDPOINT_REGION} "
            "(the endpoint's region must lie inside a US or EU dataset's multi-region, or be a regional dataset's region)",
        )
    if not bert_apart(["bert"], placement, location, region):
        return
    if samples.rows > MAX_COPIED_SAMPLE_ROWS:
        fail(
            "samplePredictions.rows",
            f"{samples.rows:,} rows would be copied through this machine to BERT's dataset in {region} "
            f"(bert.remoteModelLocation: {ENDPOINT_REGION}): give at most {MAX_COPIED_SAMPLE_ROWS:,}, or set location to {region}",
        )
    if isinstance(dataset, str) and len(regional_dataset(dataset, region)) > validate.MAX_DATASET_ID:
        fail("dataset", f"BERT's dataset {regional_dataset(dataset, region)[:40]}… would pass BigQuery's {validate.MAX_DATASET_ID} characters: shorten dataset")
    for corpus in corpora:
        if "bert" in corpus.models:
            fail(
                f"corpora.{corpus.name}.models",
                f"bert's remote model lives in {region} (bert.remoteModelLocation: {ENDPOINT_REGION}) and this corpus in {location}, "
                f"and BigQuery queries within one location: set location to {region} so the whole stack lives there, "
                "drop bert from this corpus, or set bert.remoteModelLocation to dataset (the tutorial's placement)",
            )
