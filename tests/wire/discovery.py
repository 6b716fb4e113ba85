"""Google APIs' REST resources as their discovery documents describe them, and a strict check against them.

The documents ship with google-api-python-client (BigQuery, Service Usage, Artifact Registry, ...);
each is the API's published description of every resource, field and query parameter, so a
misspelled or misplaced field fails here the way the real API rejects it. Cloud Quotas has no
document there: `cloudquotas.v1.json` beside this module carries the part the preflight reads,
written from the API's protos (googleapis/googleapis, google/api/cloudquotas/v1).

The module-level functions are BigQuery's (tests/wire/bigquery_server.py); `Document` serves any API.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

# Sent by google-cloud-bigquery and accepted by the API, but absent from the document.
_UNDOCUMENTED_QUERY = {("jobs", "get"): {"projection"}, ("jobs", "cancel"): {"projection"}}
HERE = Path(__file__).resolve().parent


class SchemaError(ValueError):
    """A request or response that the API's description does not allow."""


class Document:
    def __init__(self, document: dict[str, Any], undocumented_query: dict[tuple[str, str], set[str]] | None = None) -> None:
        self.document = document
        self._undocumented = undocumented_query or {}
        self._by_id = {m["id"]: m for m in _methods(document)}

    @classmethod
    @cache
    def shipped(cls, name: str) -> Document:
        """A document google-api-python-client ships, e.g. "serviceusage.v1.json"."""
        path = resources.files("googleapiclient") / "discovery_cache" / "documents" / name
        return cls(json.loads(path.read_text(encoding="utf-8")))

    @classmethod
    @cache
    def beside(cls, name: str) -> Document:
        """A document kept in tests/wire."""
        return cls(json.loads((HERE / name).read_text(encoding="utf-8")))

    def method(self, method_id: str) -> dict[str, Any]:
        """A method by its id, e.g. "serviceusage.services.batchGet"."""
        return self._by_id[method_id]

    def method_ids(self) -> list[str]:
        return sorted(self._by_id)

    def path_pattern(self, method_id: str, flat: bool = True) -> re.Pattern[str]:
        """The method's URL path as a regex with named groups, from `flatPath` (one group per segment) or `path`."""
        spec = self.method(method_id)
        template = spec["flatPath"] if flat and "flatPath" in spec else spec["path"]
        parts = re.split(r"\{\+?(\w+)\}", template)  # literal, name, literal, name, ..., literal
        pattern = "".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>[^/]+)" for i, part in enumerate(parts))
        return re.compile(f"^/{self.document['servicePath']}{pattern}$")

    def check(self, value: Any, schema: str) -> None:
        """Raises SchemaError unless `value` is a valid `schema` (e.g. "Job") resource."""
        self._check(value, {"$ref": schema}, schema)

    def check_query(self, method_id: str, args: dict[str, list[str]], key: tuple[str, str] | None = None) -> None:
        """Every query parameter documented for the method (or the API), and repeated only where it may be."""
        parameters = {**self.document.get("parameters", {}), **self.method(method_id).get("parameters", {})}
        for name, values in args.items():
            spec = parameters.get(name)
            if name in self._undocumented.get(key or ("", ""), ()):
                continue
            if spec is None or spec.get("location") != "query":
                raise SchemaError(f"{method_id}: unknown query parameter {name!r}")
            if len(values) > 1 and not spec.get("repeated"):
                raise SchemaError(f"{method_id}: {name!r} given {len(values)} times and is not repeated")
            for value in values:
                if "enum" in spec and value not in spec["enum"]:
                    raise SchemaError(f"{method_id}: {name}={value!r} is not one of {spec['enum']}")

    def _check(self, value: Any, spec: dict[str, Any], path: str) -> None:
        if "$ref" in spec:
            spec = self.document["schemas"][spec["$ref"]]
        kind = spec.get("type")
        if kind == "object":
            if not isinstance(value, dict):
                raise SchemaError(f"{path}: expected an object, got {value!r}")
            properties, extra = spec.get("properties", {}), spec.get("additionalProperties")
            for key, item in value.items():
                if key in properties:
                    self._check(item, properties[key], f"{path}.{key}")
                elif extra is not None:
                    self._check(item, extra, f"{path}.{key}")
                else:
                    raise SchemaError(f"{path}: unknown field {key!r}")
        elif kind == "array":
            if not isinstance(value, list):
                raise SchemaError(f"{path}: expected an array, got {value!r}")
            for index, item in enumerate(value):
                self._check(item, spec["items"], f"{path}[{index}]")
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


def _methods(node: dict[str, Any]) -> list[dict[str, Any]]:
    found = list(node.get("methods", {}).values())
    for child in node.get("resources", {}).values():
        found += _methods(child)
    return found


# --- BigQuery's document, as tests/wire/bigquery_server.py uses it ---------------------------------


def _bigquery() -> Document:
    return _bigquery_document()


@cache
def _bigquery_document() -> Document:
    shipped = Document.shipped("bigquery.v2.json")
    return Document(shipped.document, _UNDOCUMENTED_QUERY)


def document() -> dict[str, Any]:
    return _bigquery().document


def method(resource: str, name: str) -> dict[str, Any]:
    return document()["resources"][resource]["methods"][name]


def path_pattern(resource: str, name: str) -> re.Pattern[str]:
    """The method's URL path (after the service path) as a regex with named groups.

    From `path` (projectId, datasetId, ...), but where `path` is one whole resource name
    (`{+resource}:testIamPermissions`), from `flatPath` (projectsId, datasetsId, tablesId).
    """
    spec = method(resource, name)
    return _bigquery().path_pattern(spec["id"], flat=spec["path"].startswith("{+"))


def upload_pattern(resource: str, name: str) -> re.Pattern[str]:
    """The path the method's media is uploaded to (its `mediaUpload` simple path), as a regex with named groups."""
    template = method(resource, name)["mediaUpload"]["protocols"]["simple"]["path"]
    return re.compile("^" + re.sub(r"\{\+?(\w+)\}", lambda m: f"(?P<{m.group(1)}>[^/]+)", template) + "$")


def check(value: Any, schema: str) -> None:
    """Raises SchemaError unless `value` is a valid `schema` (e.g. "Job") resource."""
    _bigquery().check(value, schema)


def check_query(resource: str, name: str, args: dict[str, str]) -> None:
    _bigquery().check_query(method(resource, name)["id"], {key: [value] for key, value in args.items()}, (resource, name))
