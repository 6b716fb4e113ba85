"""`python -m stack.preflight [--stack NAME] [--config FILE.json]`: read-only checks before `pulumi up`.

Exit 0 when nothing failed, 1 when a check failed, 2 when the preflight could not run (no config,
an invalid config, no credentials). `./dev preflight` runs this with the project's venv.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from stack import config
from stack.preflight import report, stack_config
from stack.preflight.run import Clients, make_clients, run


def main(
    argv: Sequence[str] | None = None,
    clients_for: Callable[[str], Clients] = make_clients,
    environ: Mapping[str, str] = os.environ,
    out: Callable[[str], None] = print,
) -> int:
    parser = argparse.ArgumentParser(prog="./dev preflight", description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default=environ.get("PULUMI_STACK") or "dev", help="the Pulumi stack (default: $PULUMI_STACK or dev)")
    parser.add_argument("--config", type=Path, help="the stack's config as `pulumi config --json` prints it, instead of asking Pulumi")
    args = parser.parse_args(argv)
    # google-api-core warns on every import that Python 3.11 nears its end of support; the pin is the project's (README).
    warnings.filterwarnings("ignore", category=FutureWarning, module=r"google\.api_core\._python_version_support")
    try:
        if args.config is not None:
            stack = stack_config.from_file(args.config, args.stack, environ)
        else:
            stack = stack_config.from_pulumi(args.stack, environ)
    except (stack_config.SetupError, config.ConfigError) as exc:
        out(f"FAIL config: {exc}")
        return 2
    out(f"preflight of project {stack.settings.project} (config: {stack.origin})")
    from google.auth import exceptions as auth_exceptions

    try:
        clients = clients_for(stack.settings.project)
    except auth_exceptions.DefaultCredentialsError as exc:
        out(f"FAIL credentials: {exc} (run `gcloud auth application-default login`)")
        return 2
    lines = run(stack, clients)
    for line in lines:
        out(line.render())
    out(report.summary(lines))
    return 1 if report.failed(lines) else 0


if __name__ == "__main__":
    sys.exit(main())
