"""The stack's configuration as the program reads it, without the Pulumi engine.

`pulumi config --json --stack NAME` prints every key of the stack as
`{"KEY": {"value": "...", "objectValue": ..., "secret": false}}`; `--config FILE.json` takes a
file of that shape instead (`pulumi config --json > FILE.json`, or written by hand). The values
go through `stack.config.parse`, the program's own validation, so the preflight checks exactly
the settings `pulumi up` would use, or stops at the same error.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bqml_text_embeddings.config.keys import OURS
from stack import config


class SetupError(Exception):
    """The preflight cannot start: no config to read. The message says what to do."""


@dataclass(frozen=True)
class Stack:
    name: str
    settings: config.Settings
    origin: str  # where the config came from, for the report's first line


def settings_from(entries: Mapping[str, Any], environ: Mapping[str, str]) -> config.Settings:
    """Settings from `pulumi config --json` output. Raises config.ConfigError as `pulumi up` would.

    Without gcp:project, GOOGLE_CLOUD_PROJECT stands in for it, as `./dev up` sets it the first time.
    """
    if not isinstance(entries, dict) or not all(isinstance(v, dict) for v in entries.values()):
        raise config.ConfigError('invalid configuration:\n  expected the output of `pulumi config --json`: {"KEY": {"value": ...}}')

    def value(key: str) -> Any:
        entry = entries.get(key) or {}
        return entry.get("objectValue", entry.get("value"))

    ours = f"{config.NAMESPACE}:"
    raw: dict[str, Any] = {
        "project": value("gcp:project") or environ.get("GOOGLE_CLOUD_PROJECT") or None,
        "region": value("gcp:region"),
    }
    # Each key read as the program reads it (stack/config/pulumi_config.py): strings and integers as text, the rest as JSON.
    for field in OURS:
        name, found = field.name, value(ours + field.name)
        if field.kind in ("string", "integer"):
            raw[name] = None if found is None else str(found)
            continue
        if isinstance(found, str):
            try:
                found = json.loads(found)
            except ValueError:
                raise config.ConfigError(f"invalid configuration:\n  {ours}{name}: not valid JSON/YAML") from None
        raw[name] = found
    return config.parse(raw, set(entries))


def from_file(path: Path, stack: str, environ: Mapping[str, str]) -> Stack:
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SetupError(f"cannot read {path}: {exc}") from None
    return Stack(stack, settings_from(entries, environ), f"{path}")


Runner = Callable[..., subprocess.CompletedProcess[str]]


def from_pulumi(stack: str, environ: Mapping[str, str], run: Runner = subprocess.run) -> Stack:
    """The stack's config through the Pulumi CLI (read only: it neither selects nor creates a stack).

    A stack that does not exist yet is checked with the defaults (and GOOGLE_CLOUD_PROJECT), which
    is what the first `./dev up` would deploy.
    """

    def pulumi(*args: str) -> Any:
        try:
            done = run(["pulumi", *args], cwd=config.PROJECT_ROOT, stdout=subprocess.PIPE, text=True, check=False)
        except FileNotFoundError:
            raise SetupError(
                "the Pulumi CLI is not installed (https://www.pulumi.com/docs/install/); or give the config as a file: "
                "./dev preflight --config FILE.json (the output of `pulumi config --json`)"
            ) from None
        if done.returncode != 0:
            raise SetupError(f"`pulumi {' '.join(args)}` failed (exit {done.returncode}); its error is above")
        return json.loads(done.stdout or "null")

    names = {str(entry.get("name", "")) for entry in pulumi("stack", "ls", "--json") or []}
    if not any(name == stack or name.endswith(f"/{stack}") for name in names):
        return Stack(stack, settings_from({}, environ), f"defaults: stack {stack} does not exist yet")
    return Stack(stack, settings_from(pulumi("config", "--json", "--stack", stack), environ), f"stack {stack}")
