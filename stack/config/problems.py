"""The configuration's errors: each names its key, all are reported together."""

from __future__ import annotations

from collections.abc import Callable

from stack.config.rules import NAMESPACE

# Reports one problem: the key (bert.maxReplicas, gcp:region) and what is wrong with its value.
Fail = Callable[[str, str], None]


class ConfigError(ValueError):
    """One line per bad key, each naming the key and the fix."""


def full_name(name: str) -> str:
    """A key as `pulumi config` names it: bqml-text-embeddings:bert.maxReplicas, gcp:region."""
    return name if ":" in name else f"{NAMESPACE}:{name}"


class Problems:
    """Collects every problem (a Fail), so one run of `pulumi up` shows them all."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, key: str, message: str) -> None:
        self.lines.append(f"{full_name(key)}: {message}")

    def raise_if_any(self) -> None:
        if self.lines:
            raise ConfigError("invalid configuration:\n  " + "\n  ".join(self.lines))
