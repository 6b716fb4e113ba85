"""The build step: TF Hub models to SavedModels that BigQuery or Vertex AI can serve.

`ensure_all_built({model: source_overrides}, build_dir)` is the API the
Pulumi program uses: cached models in milliseconds, cold ones side by side,
each in its own process; `ensure_built` builds one in this process.
Importing this package does not import TensorFlow.
"""

from model_build.api import DEFAULT_BUILD_DIR, ensure_built
from model_build.cache import BuiltModel
from model_build.catalog import MODELS, ModelSpec, Target
from model_build.errors import BuildError
from model_build.parallel import ensure_all_built

__all__ = ["DEFAULT_BUILD_DIR", "MODELS", "BuildError", "BuiltModel", "ModelSpec", "Target", "ensure_all_built", "ensure_built"]
