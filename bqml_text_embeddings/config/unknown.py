"""Keys nobody reads: a misspelled one is refused, naming the nearest known one, not silently ignored."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from bqml_text_embeddings.config.field import Field
from bqml_text_embeddings.config.keys import OURS
from bqml_text_embeddings.config.problems import Fail
from bqml_text_embeddings.config.rules import NAMESPACE


def did_you_mean(key: str, known: Sequence[str]) -> str:
    near = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    return f"did you mean {near[0]}? " if near else ""


def stack_keys(configured: Iterable[str], fail: Fail) -> None:
    """Reports each key set in our namespace that the program does not know (other namespaces are others')."""
    ours = sorted(field.name for field in OURS)
    for full in sorted(configured):
        namespace, _, name = full.partition(":")
        if namespace != NAMESPACE or name in ours:
            continue
        if name in ("project", "region"):  # the Google provider's, as gcp:project and gcp:region
            fail(name, f"unknown key; set gcp:{name} instead (`pulumi config set gcp:{name} …`)")
        else:
            fail(name, f"unknown key; {did_you_mean(name, ours)}the keys are {ours}")


def object_keys(value: Mapping[Any, Any], allowed: Sequence[str], key: str, fail: Fail) -> bool:
    """Reports each key of an object value that is not allowed; True if there was none."""
    unknown = sorted(set(value) - set(allowed))
    for name in unknown:
        fail(f"{key}.{name}", f"unknown key; {did_you_mean(name, allowed)}allowed are {list(allowed)}")
    return not unknown


def merged(value: Any, section: Field, fail: Fail) -> dict[str, Any]:
    """An object value over its section's defaults, key by key; the defaults alone if it is no object."""
    defaults = section.defaults
    if not isinstance(value, dict):
        fail(section.name, f"{value!r}: give an object with keys {list(defaults)}")
        return dict(defaults)
    object_keys(value, list(defaults), section.name, fail)
    return {**defaults, **value}
