"""The tutorial's arguments, checked by the same rules as the stack's configuration (bqml_text_embeddings/config).

TextEmbeddingsTutorialArgs names in snake_case what the configuration names in camelCase
(`bert.max_replicas`, `bert.maxReplicas`): one table of keys, defaults and bounds serves both,
and an error names the argument as the component's caller wrote it.
"""

import dataclasses
import re
from typing import Any

from bqml_text_embeddings.args import ArgumentError, by_config_rules, camel, snake
from bqml_text_embeddings.config import parsing
from bqml_text_embeddings.config.keys import CORPORA, OURS
from bqml_text_embeddings.config.rules import IMDB_REVIEWS
from bqml_text_embeddings.config.settings import Settings
from bqml_text_embeddings.config.unknown import did_you_mean

TutorialSpec = Settings

__all__ = ["IMDB_REVIEWS", "TutorialSpec", "spec_of"]

# The configuration's keys but `corpora` (EmbeddedCorpus is a component of its own), with the
# Google provider's gcp:project and gcp:region as arguments.
_ARGUMENTS = ("project", "region", *(field.name for field in OURS if field is not CORPORA), "apis")
API_RE = re.compile(r"[a-z][a-z0-9-]*(?:\.[a-z0-9-]+)*\.googleapis\.com")


def _camel_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {camel(k) if isinstance(k, str) else k: _camel_keys(v) for k, v in value.items()}
    return value


def _apis(value: Any, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, list) and all(isinstance(api, str) and API_RE.fullmatch(api) for api in value):
        return tuple(dict.fromkeys(value))
    raise ArgumentError(f"invalid arguments:\n  {what}: apis: {value!r}: give a list of Google API services such as iam.googleapis.com")


def spec_of(args: dict[str, Any], what: str) -> TutorialSpec:
    """The checked arguments, every bad one named on a line of one ArgumentError (`what` names the component)."""
    known = [snake(name) for name in _ARGUMENTS]
    # A misspelt argument is refused, naming the nearest, not ignored.
    unknown = [
        f"{what}: {name}: unknown argument; {did_you_mean(name, known)}the arguments are {sorted(known)}"
        for name in args
        if name not in known
    ]
    if unknown:
        raise ArgumentError("invalid arguments:\n  " + "\n  ".join(unknown))
    given = dict(args)
    apis = _apis(given.pop("apis", None), what)
    settings = by_config_rules(what, lambda fail: parsing.parse(_camel_keys(given), fail=fail))
    return dataclasses.replace(settings, apis=apis)
