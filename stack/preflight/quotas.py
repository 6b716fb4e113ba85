"""The Vertex AI quotas that bound a first fill, read with the Cloud Quotas API, and what they imply.

Cloud Quotas (`cloudquotas.googleapis.com`, v1, GA) is the API Google documents for reading quota
values: `quotaInfos.list` on `projects/P/locations/global/services/aiplatform.googleapis.com`
gives every quota of the service with its `dimensionsInfos` (the value in effect per region and
other dimensions). Service Usage's `consumerQuotaMetrics` offers the same only in v1beta1.
The quotas are matched by metric and dimensions, never by a guessed quota id:

- a corpus embedded by `textembedding`: `aiplatform.googleapis.com/online_prediction_requests_per_base_model`
  (requests per minute per region per base_model); Vertex AI's generative AI quota page lists
  `base_model: textembedding-gecko` at 1,500 a minute for the text-embedding models and
  `base_model: gemini-embedding` for gemini-embedding-001;
- `bert`: `aiplatform.googleapis.com/custom_model_serving_cpus` in gcp:region against
  `bert.maxReplicas` times the machine type's vCPUs (the quota Vertex AI names when a deployment
  is refused: "The following quota metrics exceed quota limits: ...custom_model_serving_cpus").

The values are limits, not what is free: other work in the project uses them too (usage is in
Cloud Monitoring, which this does not read), and a pending increase (a quota preference) counts
only once granted.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from bqml_text_embeddings import locations
from stack.config import NAMESPACE, Settings
from stack.preflight import rest
from stack.preflight.report import Line, fail, note, ok

CHECK = "quotas"
SERVICE = "aiplatform.googleapis.com"
REQUESTS_PER_BASE_MODEL = "aiplatform.googleapis.com/online_prediction_requests_per_base_model"
SERVING_CPUS = "aiplatform.googleapis.com/custom_model_serving_cpus"
# A managed endpoint's base model, as the quota's base_model dimension names it. gemini-embedding and
# textembedding-gecko are on Vertex AI's quota page; the multilingual one follows its legacy model's name.
BASE_MODELS = (
    (re.compile(r"text-embedding-[0-9]+|textembedding-gecko@[0-9]{3}"), "textembedding-gecko"),
    (re.compile(r"text-multilingual-embedding-[0-9]+|textembedding-gecko-multilingual@[0-9]{3}"), "textembedding-gecko-multilingual"),
    (re.compile(r"gemini-embedding-[0-9]+"), "gemini-embedding"),
)
# Compute Engine names a predefined machine type FAMILY-CLASS-VCPUS (n1-standard-2: 2 vCPUs).
_MACHINE = re.compile(r"[a-z][a-z0-9]*-(?:standard|highmem|highcpu)-(?P<vcpus>[0-9]+)")
CONSOLE = "https://console.cloud.google.com/iam-admin/quotas"


def base_model(endpoint: str) -> str | None:
    return next((name for pattern, name in BASE_MODELS if pattern.fullmatch(endpoint)), None)


def machine_vcpus(machine_type: str) -> int | None:
    match = _MACHINE.fullmatch(machine_type)
    return int(match["vcpus"]) if match else None


def list_infos(quotas: rest.Rest, project: str) -> list[dict[str, Any]]:
    """Every quota of Vertex AI's service for the project, all pages."""
    parent = f"v1/projects/{project}/locations/global/services/{SERVICE}/quotaInfos"
    infos: list[dict[str, Any]] = []
    token = ""
    while True:
        page = quotas.get(parent, [("pageToken", token)] if token else None)
        infos += page.get("quotaInfos", [])
        token = page.get("nextPageToken", "")
        if not token:
            return infos


def value(infos: list[dict[str, Any]], metric: str, wanted: Mapping[str, str]) -> int | None:
    """The value in effect for `wanted` dimensions ({"region": ..., "base_model": ...}); None if no quota says.

    A DimensionsInfo applies to every value of a dimension it leaves out, except those another one
    names (cloudquotas v1 resources.proto): so the one naming the most of `wanted` wins.
    """
    best: tuple[int, int] | None = None
    for info in infos:
        if info.get("metric") != metric:
            continue
        for entry in info.get("dimensionsInfos", []):
            dims = entry.get("dimensions") or {}
            places = entry.get("applicableLocations") or []
            if any(wanted.get(key) != found for key, found in dims.items()):
                continue
            if places and "global" not in places and wanted.get("region") not in places:
                continue
            found = int((entry.get("details") or {}).get("value", 0))
            if best is None or len(dims) > best[0]:
                best = (len(dims), found)
    return None if best is None else best[1]


def check(quotas: rest.Rest, settings: Settings, rows: Mapping[str, int | None]) -> list[Line]:
    corpora = [c for c in settings.corpora if "textembedding" in c.models]
    if not corpora and not settings.with_bert:
        return []
    try:
        infos = list_infos(quotas, settings.project)
    except Exception as exc:  # noqa: BLE001 - reported as what to look at by hand
        return [_unread(exc, settings, corpora)]
    lines = []
    if corpora:
        lines.append(_embedding(infos, settings, corpora, rows))
    if settings.with_bert:
        lines.append(_serving(infos, settings))
    return lines


def _embedding(infos: list[dict[str, Any]], settings: Settings, corpora: list[Any], rows: Mapping[str, int | None]) -> Line:
    endpoint = settings.text_embedding.endpoint
    model = base_model(endpoint)
    # BigQuery calls Vertex AI where the dataset is; a multi-region dataset's region is BigQuery's choice,
    # so the stack's Vertex AI region stands in for it.
    region = settings.location if settings.location not in locations.MULTI_REGIONS else settings.region
    where = f"{REQUESTS_PER_BASE_MODEL} (base_model {model}) in {region}"
    if model is None:
        return note(
            CHECK,
            f"textEmbedding.endpoint {endpoint}: no known base model to read its quota by; see {CONSOLE}?project={settings.project}, "
            f"metric {REQUESTS_PER_BASE_MODEL}",
        )
    per_minute = value(infos, REQUESTS_PER_BASE_MODEL, {"region": region, "base_model": model})
    if per_minute is None:
        return note(CHECK, f"{where}: not among the project's quotas; see {CONSOLE}?project={settings.project}")
    if per_minute == 0:
        return fail(
            CHECK,
            f"{where} is 0 a minute: no row of {', '.join(c.name for c in corpora)} can be embedded. Request an increase: "
            f"{CONSOLE}?project={settings.project}",
        )
    if per_minute < 0:
        return ok(CHECK, f"{where}: unlimited")
    return ok(CHECK, f"{where}: {per_minute:,} requests a minute. " + _fill_time(per_minute, corpora, rows))


def _fill_time(per_minute: int, corpora: list[Any], rows: Mapping[str, int | None]) -> str:
    """What the quota implies for a first fill, if each row is one request (BigQuery does not say how many rows a request carries)."""
    counts = {c.name: rows.get(c.table) for c in corpora}
    known = {name: n for name, n in counts.items() if n is not None}
    parts = []
    for corpus in corpora:
        batch = corpus.batch_size("textembedding")
        parts.append(
            f"corpus {corpus.name}: a batch of {batch:,} rows takes at least {batch / per_minute:.1f} min, a run of "
            f"{corpus.time_budget_minutes} min embeds at most {per_minute * corpus.time_budget_minutes:,} rows"
        )
    if known:
        total = sum(known.values())
        runs = {c.name: math.ceil(known[c.name] / (per_minute * c.time_budget_minutes)) for c in corpora if c.name in known}
        parts.append(
            f"the first fill of {total:,} rows needs at least {total / per_minute / 60:.1f} h of this quota "
            f"({', '.join(f'{name}: {n} run(s)' for name, n in runs.items())}), at one row per request"
        )
    unknown = sorted(name for name, n in counts.items() if n is None)
    if unknown:
        parts.append(f"rows of {', '.join(unknown)} unknown")
    return "; ".join(parts)


def _serving(infos: list[dict[str, Any]], settings: Settings) -> Line:
    bert, region = settings.bert, settings.region
    vcpus = machine_vcpus(bert.machine_type)
    quota = value(infos, SERVING_CPUS, {"region": region})
    where = f"{SERVING_CPUS} in {region}"
    if quota is None:
        return note(CHECK, f"{where}: not among the project's quotas; see {CONSOLE}?project={settings.project}")
    if vcpus is None:
        return note(CHECK, f"{where}: {quota:,} vCPUs; {bert.machine_type}'s vCPU count is not in its name: compare by hand with {bert.max_replicas} replicas")
    low, high = bert.min_replicas * vcpus, bert.max_replicas * vcpus
    if 0 <= quota < low:
        return fail(
            CHECK,
            f"{where} is {quota:,} vCPUs and BERT's deployment needs {low} ({bert.min_replicas} x {bert.machine_type}, {vcpus} vCPUs): "
            f"it would be refused. Request more, or set a smaller {NAMESPACE}:bert.machineType",
        )
    if 0 <= quota < high:
        return fail(
            CHECK,
            f"{where} is {quota:,} vCPUs and {NAMESPACE}:bert.maxReplicas {bert.max_replicas} x {bert.machine_type} needs {high}: "
            f"the endpoint could never scale that far. Request more, or lower bert.maxReplicas to {quota // vcpus}",
        )
    return ok(
        CHECK,
        f"{where}: {'unlimited' if quota < 0 else f'{quota:,} vCPUs'}, BERT needs up to {high} ({bert.max_replicas} x {bert.machine_type}); "
        "other endpoints in the region share it",
    )


def _unread(exc: BaseException, settings: Settings, corpora: list[Any]) -> Line:
    metrics = ([REQUESTS_PER_BASE_MODEL] if corpora else []) + ([SERVING_CPUS] if settings.with_bert else [])
    by_hand = f"see {CONSOLE}?project={settings.project} (metric {', '.join(metrics)})"
    if rest.service_disabled(exc):
        return note(
            CHECK,
            f"cannot read quotas: the Cloud Quotas API is off (gcloud services enable cloudquotas.googleapis.com --project "
            f"{settings.project}; the stack does not need it), or {by_hand}",
        )
    return note(CHECK, f"cannot read quotas: {rest.message(exc)} (it needs cloudquotas.quotas.get, e.g. roles/cloudquotas.viewer); or {by_hand}")
