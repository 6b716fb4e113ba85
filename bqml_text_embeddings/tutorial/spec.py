"""The tutorial's arguments, checked: TEMPORARY adapter onto the stack's config rules while they move into the package."""

from typing import Any

from stack.config import IMDB_REVIEWS, Settings, parse

TutorialSpec = Settings

__all__ = ["IMDB_REVIEWS", "TutorialSpec", "spec_of"]

_CAMEL = {
    "sample_predictions": "samplePredictions",
    "model_sources": "modelSources",
    "build_dir": "buildDir",
    "build_jobs": "buildJobs",
    "text_embedding": "textEmbedding",
    "machine_type": "machineType",
    "min_replicas": "minReplicas",
    "max_replicas": "maxReplicas",
    "serving_image": "servingImage",
    "remote_model_location": "remoteModelLocation",
}


def _camel(value: Any) -> Any:
    if isinstance(value, dict):
        return {_CAMEL.get(k, k): _camel(v) for k, v in value.items()}
    return value


def spec_of(args: dict[str, Any], what: str) -> TutorialSpec:
    return parse(_camel(dict(args)))
