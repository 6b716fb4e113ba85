"""Reading the stack's config from Pulumi: the only place that touches pulumi.Config."""

from __future__ import annotations

from typing import Any

from bqml_text_embeddings.config.keys import OURS
from bqml_text_embeddings.config.problems import ConfigError, full_name
from bqml_text_embeddings.config.rules import NAMESPACE
from bqml_text_embeddings.config.settings import Settings


def configured_keys() -> set[str]:
    """Every key set in the stack's config, as the language host hands them to the program.

    pulumi.Config reads one key at a time; the whole map is the runtime's (set by the engine or,
    in older hosts, the PULUMI_CONFIG environment variable), which is what a misspelling hides in.
    """
    from pulumi.runtime import config as runtime_config

    return set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())


def from_pulumi() -> Settings:
    """The stack's settings from its config. Raises ConfigError."""
    import pulumi

    ours, gcp = pulumi.Config(NAMESPACE), pulumi.Config("gcp")
    raw: dict[str, Any] = {"project": gcp.get("project"), "region": gcp.get("region")}
    for field in OURS:
        if field.kind in ("string", "integer"):  # an integer as text: the parser reads both
            raw[field.name] = ours.get(field.name)
            continue
        try:
            raw[field.name] = ours.get_object(field.name)
        except Exception:  # noqa: BLE001 - pulumi raises a bare error for bad JSON
            raise ConfigError(f"invalid configuration:\n  {full_name(field.name)}: not valid JSON/YAML") from None
    from stack.config import parse

    return parse(raw, configured_keys())
