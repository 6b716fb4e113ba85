"""BigQuery's REST resources as its discovery document describes them, and a strict check against it.

The document ships with google-api-python-client; it is the API's published
description of every resource, field and query parameter, so a misspelled or
misplaced field fails here the way the real API rejects it.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from typing import Any

# Sent by google-cloud-bigquery and accepted by the API, but absent from the document.
_UNDOCUMENTED_QUERY = {("jobs", "get"): {"projection"}, ("jobs", "cancel"): {"projection"}}


class SchemaError(ValueError):
    """A request or response that the API's description does not allow."""


@cache
def document() -> dict[str, Any]:
    path = resources.files("googleapiclient") / "discovery_cache" / "documents" / "bigquery.v2.json"
    return json.loads(path.read_text(encoding="utf-8"))


def method(resource: str, name: str) -> dict[str, Any]:
    return document()["resources"][resource]["methods"][name]


def path_pattern(resource: str, name: str) -> re.Pattern[str]:
    """The method's URL path (after the service path) as a regex with named groups."""
    template = method(resource, name)["path"]
    pattern = re.sub(r"\{\+?(\w+)\}", lambda m: f"(?P<{m.group(1)}>[^/]+)", template)
    return re.compile(f"^/{document()['servicePath']}{pattern}$")


def upload_pattern(resource: str, name: str) -> re.Pattern[str]:
    """The path the method's media is uploaded to (its `mediaUpload` simple path), as a regex with named groups."""
    template = method(resource, name)["mediaUpload"]["protocols"]["simple"]["path"]
    return re.compile("^" + re.sub(r"\{\+?(\w+)\}", lambda m: f"(?P<{m.group(1)}>[^/]+)", template) + "$")


def check(value: Any, schema: str) -> None:
    """Raises SchemaError unless `value` is a valid `schema` (e.g. "Job") resource."""
    _check(value, {"$ref": schema}, schema)


def check_query(resource: str, name: str, args: dict[str, str]) -> None:
    parameters = {**document().get("parameters", {}), **method(resource, name).get("parameters", {})}
    for key in args:
        spec = parameters.get(key)
        if key in _UNDOCUMENTED_QUERY.get((resource, name), ()):
            continue
        if spec is None or spec.get("location") != "query":
            raise SchemaError(f"{resource}.{name}: unknown query parameter {key!r}")


def _check(value: Any, spec: dict[str, Any], path: str) -> None:
    if "$ref" in spec:
        spec = document()["schemas"][spec["$ref"]]
    kind = spec.get("type")
    if kind == "object":
        if not isinstance(value, dict):
            raise SchemaError(f"{path}: expected an object, got {value!r}")
        properties, extra = spec.get("properties", {}), spec.get("additionalProperties")
        for key, item in value.items():
            if key in properties:
                _check(item, properties[key], f"{path}.{key}")
            elif extra is not None:
                _check(item, extra, f"{path}.{key}")
            else:
                raise SchemaError(f"{path}: unknown field {key!r}")
    elif kind == "array":
        if not isinstance(value, list):
            raise SchemaError(f"{path}: expected an array, got {value!r}")
        for index, item in enumerate(value):
            _check(item, spec["items"], f"{path}[{index}]")
    elif kind == "string":
        if not isinstance(value, str):
            raise SchemaError(f"{path}: expected a string, got {value!r}")
        if spec.get("format") in ("int64", "uint64") and not re.fullmatch(r"-?[0-9]+", value):
            raise SchemaError(f"{path}: expected a decimal int64 string, got {value!r}")
        if "enum" in spec and value not in spec["enum"]:
            raise SchemaError(f"{path}: {value!r} is not one of {spec['enum']}")
    elif kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            raise SchemaError(f"{path}: expected an integer, got {value!r}")
    elif kind == "boolean":
        if not isinstance(value, bool):
            raise SchemaError(f"{path}: expected a boolean, got {value!r}")
    elif kind == "number" and (isinstance(value, bool) or not isinstance(value, (int, float))):
        raise SchemaError(f"{path}: expected a number, got {value!r}")
