"""Where things may live: BigQuery locations and the remote-model location rules.

Remote models over a model deployed to Vertex AI: the connection is in the
dataset's location (`bigqueryml-syntax-create-remote-model-https`). BigQuery's
locations page ("Locations for remote models") lists the regions that offer
them and says "Vertex AI deployed models aren't supported in either
multi-region"; a single-region dataset needs its endpoint in that region. The
tutorial and the CREATE MODEL reference's example use a US dataset over a
us-central1 endpoint: that placement (bert.remoteModelLocation: dataset) keeps
the older rule, an endpoint inside the dataset's multi-region.
"""

from __future__ import annotations

MULTI_REGIONS = ("US", "EU")

BIGQUERY_REGIONS = frozenset(
    """
    us-central1 us-east1 us-east4 us-east5 us-south1 us-west1 us-west2 us-west3 us-west4
    northamerica-northeast1 northamerica-northeast2 northamerica-south1
    southamerica-east1 southamerica-west1
    europe-central2 europe-north1 europe-north2 europe-southwest1 europe-west1 europe-west2
    europe-west3 europe-west4 europe-west6 europe-west8 europe-west9 europe-west10 europe-west12
    asia-east1 asia-east2 asia-northeast1 asia-northeast2 asia-northeast3 asia-south1 asia-south2
    asia-southeast1 asia-southeast2 australia-southeast1 australia-southeast2
    me-central1 me-central2 me-west1 africa-south1
    """.split()
)

# Regions inside each multi-region (EU: data centres in EU member states, so
# not London europe-west2 nor Zurich europe-west6).
_INSIDE = {
    "US": frozenset(r for r in BIGQUERY_REGIONS if r.startswith("us-")),
    "EU": frozenset(
        "europe-central2 europe-north1 europe-southwest1 europe-west1 europe-west3 europe-west4 "
        "europe-west8 europe-west9 europe-west10 europe-west12".split()
    ),
}

# The "Vertex AI deployed models" column of the locations page's table of remote-model regions.
REMOTE_MODEL_REGIONS = frozenset(
    """
    us-south1 us-central1 us-west4 us-west2 northamerica-northeast1 us-east4 us-west1 us-west3
    southamerica-east1 us-east1 northamerica-northeast2
    europe-west1 europe-west3 europe-west2 europe-west8 europe-west4 europe-west9 europe-central2 europe-west6
    asia-east2 asia-southeast2 asia-south1 asia-northeast3 asia-southeast1 australia-southeast1 asia-east1
    asia-northeast1 me-west1
    """.split()
)

# Datasets whose location is known without asking BigQuery.
KNOWN_TABLE_LOCATIONS = {"bigquery-public-data.imdb": "US"}


def normalize(location: str) -> str | None:
    """The canonical spelling of a BigQuery location, or None if unknown."""
    if location.upper() in MULTI_REGIONS:
        return location.upper()
    if location.lower() in BIGQUERY_REGIONS:
        return location.lower()
    return None


def endpoint_region_allowed(dataset_location: str, region: str) -> bool:
    if dataset_location in _INSIDE:
        return region in _INSIDE[dataset_location]
    return region == dataset_location


def allowed_endpoint_regions(dataset_location: str) -> list[str]:
    return sorted(_INSIDE.get(dataset_location, {dataset_location}))


def serving_image_registry(region: str) -> str:
    """The Artifact Registry host nearest a Vertex AI region, for prebuilt images."""
    if region.startswith("europe-"):
        return "europe-docker.pkg.dev"
    if region.startswith(("asia-", "australia-", "me-")):
        return "asia-docker.pkg.dev"
    return "us-docker.pkg.dev"
