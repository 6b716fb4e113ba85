"""The component provider: `pulumi package add` runs this, and programs in any language construct through it."""

import sys
from pathlib import Path

# The package is this repository's, one directory up (Pulumi runs the plugin from this directory).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi.provider.experimental import component_provider_host

from bqml_text_embeddings.provider import COMPONENTS, NAME

if __name__ == "__main__":
    component_provider_host(components=list(COMPONENTS), name=NAME)
