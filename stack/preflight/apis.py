"""Which APIs the stack needs, and whether the project has them on (Service Usage `services.batchGet`).

The stack turns its APIs on itself (`gcp.projects.Service` in infra/steps/foundation.py), but only
through two that must already be on: Service Usage, which enables the others, and Cloud Resource
Manager, which the provider reads the project and its IAM policy through. Those two missing is a
failure; any other API off is what the first `pulumi up` changes.
"""

from __future__ import annotations

from typing import Any

from stack.config import Settings
from stack.preflight import rest
from stack.preflight.report import Line, fail, note, ok

CHECK = "apis"
MUST_BE_ON = ("serviceusage.googleapis.com", "cloudresourcemanager.googleapis.com")
# Read by the preflight's quota check only; the stack never needs it.
QUOTAS_API = "cloudquotas.googleapis.com"
BATCH_LIMIT = 30  # services.batchGet: "A single request can get a maximum of 30 services"


def stack_apis(settings: Settings) -> tuple[str, ...]:
    """The APIs the program enables for these settings (infra/steps/foundation.py; a test keeps the two in step)."""
    apis = ["bigquery.googleapis.com", "storage.googleapis.com"]
    if settings.with_connection:
        apis += ["bigqueryconnection.googleapis.com", "aiplatform.googleapis.com"]
    if settings.corpora:
        apis += ["iam.googleapis.com", "bigquerydatatransfer.googleapis.com"]
    if settings.with_bert and settings.bert.mirrors_image:
        apis += ["artifactregistry.googleapis.com"]
    return tuple(apis)


def check(services: rest.Rest, settings: Settings) -> tuple[list[Line], dict[str, bool]]:
    """One line per finding, and each API's state (True: on) where Service Usage answered."""
    project = settings.project
    wanted = [*MUST_BE_ON, *stack_apis(settings), QUOTAS_API]
    try:
        found: list[dict[str, Any]] = []
        for start in range(0, len(wanted), BATCH_LIMIT):
            names = [("names", f"projects/{project}/services/{api}") for api in wanted[start : start + BATCH_LIMIT]]
            found += services.get(f"v1/projects/{project}/services:batchGet", names).get("services", [])
    except Exception as exc:  # noqa: BLE001 - any refusal is reported; the other checks still run
        return [_unreadable(exc, project)], {}
    states = {str(s.get("name", "")).rsplit("/", 1)[-1]: s.get("state") == "ENABLED" for s in found}
    lines = []
    for api in MUST_BE_ON:
        if states.get(api):
            lines.append(ok(CHECK, f"{api} is on in {project}"))
        else:
            lines.append(fail(CHECK, f"{api} is off in {project}, and the stack turns the other APIs on through it: {_enable(api, project)}"))
    on = [api for api in stack_apis(settings) if states.get(api)]
    off = [api for api in stack_apis(settings) if not states.get(api)]
    if on:
        lines.append(ok(CHECK, f"on already: {', '.join(on)}"))
    if off:
        lines.append(
            note(
                CHECK,
                f"off, and the first `pulumi up` turns them on: {', '.join(off)} (a new API takes a minute or two to "
                "answer: if `pulumi up` then fails with \"API has not been used in project\", run it again)",
            )
        )
    return lines, states


def _enable(api: str, project: str) -> str:
    return f"gcloud services enable {api} --project {project}"


def _unreadable(exc: BaseException, project: str) -> Line:
    disabled = rest.service_disabled(exc)
    if disabled:
        return fail(
            CHECK,
            f"{disabled} is off in {project}, and the stack turns the other APIs on through it: "
            f"gcloud services enable {' '.join(MUST_BE_ON)} --project {project}",
        )
    return fail(
        CHECK,
        f"cannot read which APIs are on in {project}: {rest.message(exc)}. The deployer needs serviceusage.services.get "
        "(roles/serviceusage.serviceUsageAdmin, which also turns them on)",
    )
