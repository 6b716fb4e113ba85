"""The build step: TF Hub models to SavedModels that BigQuery or Vertex AI can serve.

`ensure_built(model, source_overrides, build_dir)` is the API the Pulumi
program uses. Importing this package does not import TensorFlow.
"""

from model_build.api import DEFAULT_BUILD_DIR, ensure_built
from model_build.cache import BuiltModel
from model_build.catalog import MODELS, ModelSpec, Target
from model_build.errors import BuildError

__all__ = ["DEFAULT_BUILD_DIR", "MODELS", "BuildError", "BuiltModel", "ModelSpec", "Target", "ensure_built"]
