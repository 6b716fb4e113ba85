"""One build in a process of its own: `python -m model_build.worker '<request JSON>'`.

`parallel.ensure_all_built` starts one per cold model so that TensorFlow's
process-wide state (op registry, graphs, threads, memory) never mixes two
builds. The request is {"model", "sources" (resolved handles), "build_dir"};
the last line on stdout is {"ok": true} or {"error": "<the BuildError>"}.
"""

from __future__ import annotations

import json
import sys

from model_build.api import ensure_built
from model_build.errors import BuildError

FAILED = 3  # exit status of a build that failed with a BuildError


def main(argv: list[str]) -> int:
    (raw,) = argv
    request = json.loads(raw)
    try:
        ensure_built(request["model"], request["sources"], request["build_dir"])
    except BuildError as exc:
        print(json.dumps({"error": str(exc)}), flush=True)
        return FAILED
    print(json.dumps({"ok": True}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
