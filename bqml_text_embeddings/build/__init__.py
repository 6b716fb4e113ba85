"""The build step: TF Hub models to SavedModels that BigQuery or Vertex AI can serve.

`ensure_all_built({model: source_overrides}, build_dir)` is the API the
Pulumi program uses: cached models in milliseconds, cold ones side by side,
each in its own process; `ensure_built` builds one in this process.
Importing this package does not import TensorFlow.
"""

from bqml_text_embeddings.build.api import DEFAULT_BUILD_DIR, ensure_built
from bqml_text_embeddings.build.cache import BuiltModel
from bqml_text_embeddings.build.catalog import MODELS, ModelSpec, Target
from bqml_text_embeddings.build.errors import BuildError
from bqml_text_embeddings.build.parallel import ensure_all_built

__all__ = ["DEFAULT_BUILD_DIR", "MODELS", "BuildError", "BuiltModel", "ModelSpec", "Target", "ensure_all_built", "ensure_built"]
