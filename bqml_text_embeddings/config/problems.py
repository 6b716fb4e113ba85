"""The configuration's errors: each names its key, all are reported together."""

from __future__ import annotations

from collections.abc import Callable

from bqml_text_embeddings.config.rules import NAMESPACE

# Reports one problem: the key (bert.maxReplicas, gcp:region) and what is wrong with its value.
Fail = Callable[[str, str], None]


class ConfigError(ValueError):
    """One line per bad key, each naming the key and the fix."""


def full_name(name: str) -> str:
    """A key as `pulumi config` names it: bqml-text-embeddings:bert.maxReplicas, gcp:region."""
    return name if ":" in name else f"{NAMESPACE}:{name}"


class Problems:
    """Collects every problem (a Fail), so one run of `pulumi up` shows them all."""

    def __init__(self, key_name: Callable[[str], str] = full_name) -> None:
        self.lines: list[str] = []
        self.key_name = key_name

    def __call__(self, key: str, message: str) -> None:
        self.lines.append(f"{self.key_name(key)}: {message}")

    def raise_if_any(self) -> None:
        if self.lines:
            raise ConfigError("invalid configuration:\n  " + "\n  ".join(self.lines))
