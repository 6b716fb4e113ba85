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
    """Collects every problem (a Fail), so one run of `pulumi up` shows them all.

    `key_name` spells a key in an error and `error` is what is raised: the stack's config names
    `bqml-text-embeddings:bert.maxReplicas` in a ConfigError, a component its argument in its own error.
    """

    def __init__(
        self,
        key_name: Callable[[str], str] = full_name,
        error: type[ValueError] = ConfigError,
        heading: str = "invalid configuration",
    ) -> None:
        self.lines: list[str] = []
        self.key_name = key_name
        self.error = error
        self.heading = heading

    def __call__(self, key: str, message: str) -> None:
        self.lines.append(f"{self.key_name(key)}: {message}")

    def raise_if_any(self) -> None:
        if self.lines:
            raise self.error(f"{self.heading}:\n  " + "\n  ".join(self.lines))
