"""`./dev preflight` on the wire: every check through the real client libraries against servers on 127.0.0.1.

Each test starts from a project ready for the stack (tests/wire/preflight_world.py), takes one
thing away or injects one fault, and asserts the line the preflight prints: ok, FAIL with the fix,
or a note of what cannot be settled from here.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import grpc
import pytest

from bqml_text_embeddings.config import bert as config_bert
from stack.preflight import image as image_check
from stack.preflight import permissions
from stack.preflight.__main__ import main
from stack.preflight.report import FAIL, NOTE, OK
from stack.preflight.stack_config import settings_from
from tests.wire.bigquery_server import http_error as bigquery_error
from tests.wire.preflight_servers import PROJECT_NUMBER
from tests.wire.preflight_world import (
    CPUS,
    DIGEST,
    IMDB,
    PROJECT,
    REPOSITORY,
    SOURCE,
    STACK_CONFIG,
    World,
    lines_of,
    pulumi_json,
    write_config,
)
from tests.wire.rest_server import DROPPED, TOKEN, http_error, service_disabled

BERT_ONLY = {"gcp:project": PROJECT, "models": ["bert"], "samplePredictions": {"rows": 0}}


@pytest.fixture
def world() -> Iterator[World]:
    ready = World.ready()
    yield ready
    assert ready.problems() == [], "every request must be one the APIs' descriptions allow"
    ready.stop()


def statuses(lines: list[Any]) -> set[str]:
    return {line.status for line in lines}


# --- the whole run -------------------------------------------------------------------------------


def test_a_ready_project_passes_every_check_with_one_line_each(world: World, tmp_path: Any) -> None:
    printed: list[str] = []
    code = main(["--config", str(write_config(tmp_path / "dev.json", STACK_CONFIG))], lambda _project: world.clients(), {}, printed.append)
    assert code == 0, "\n".join(printed)
    assert printed[0] == f"preflight of project {PROJECT} (config: {tmp_path / 'dev.json'})"
    assert all(line.startswith("ok   ") for line in printed[1:-1]), "\n".join(printed)
    assert {line.split(":")[0].split()[1] for line in printed[1:-1]} == {"apis", "permissions", "tables", "image", "quotas"}
    assert printed[-1].startswith("preflight: ready for `pulumi up`")


def test_a_failed_check_fails_the_run_and_is_counted(world: World, tmp_path: Any) -> None:
    world.projects.held.discard("bigquery.jobs.create")
    printed: list[str] = []
    code = main(["--config", str(write_config(tmp_path / "dev.json", STACK_CONFIG))], lambda _project: world.clients(), {}, printed.append)
    assert code == 1
    assert [line for line in printed if line.startswith("FAIL")] == [
        "FAIL permissions: projects/my-proj-123: missing bigquery.jobs.create (for every statement (CREATE MODEL/TABLE/…, DROP) and a "
        "corpus's first fill run as query jobs in the project): grant roles/bigquery.user on projects/my-proj-123 to the deployer "
        '(see docs/preflight.md, "Permissions")'
    ]
    assert printed[-1].startswith("preflight: 1 problem(s) to fix before `pulumi up`")


def test_rest_calls_carry_the_token_and_the_stacks_project_as_quota_project(world: World) -> None:
    world.run()
    for server in (world.services, world.artifacts, world.quotas):
        for _name, call in server.calls:
            assert call["headers"]["Authorization"] == f"Bearer {TOKEN}"
            assert call["headers"]["X-Goog-User-Project"] == PROJECT


# --- APIs ----------------------------------------------------------------------------------------


def test_the_apis_are_asked_for_in_one_batch_get_of_the_stacks_and_the_two_it_needs_first(world: World) -> None:
    world.run()
    (call,) = world.services.called(world.services.BATCH_GET)
    assert call["params"] == {"v1Id": "projects", "v1Id1": PROJECT}
    asked = [name.rsplit("/", 1)[1] for name in call["args"]["names"]]
    assert asked == [
        "serviceusage.googleapis.com", "cloudresourcemanager.googleapis.com", "bigquery.googleapis.com", "storage.googleapis.com",
        "bigqueryconnection.googleapis.com", "aiplatform.googleapis.com", "iam.googleapis.com", "bigquerydatatransfer.googleapis.com",
        "artifactregistry.googleapis.com", "cloudquotas.googleapis.com",
    ]


def test_service_usage_off_fails_naming_both_apis_to_enable_first(world: World) -> None:
    world.services.inject(world.services.BATCH_GET, service_disabled("serviceusage.googleapis.com", PROJECT_NUMBER))
    (line,) = lines_of(world.run(), "apis")
    assert line == (
        "serviceusage.googleapis.com is off in my-proj-123, and the stack turns the other APIs on through it: "
        "gcloud services enable serviceusage.googleapis.com cloudresourcemanager.googleapis.com --project my-proj-123"
    )


def test_resource_manager_off_fails_and_an_api_the_stack_enables_is_only_a_note(world: World) -> None:
    world.services.enabled -= {"cloudresourcemanager.googleapis.com", "aiplatform.googleapis.com", "iam.googleapis.com"}
    lines = world.run()
    assert lines_of(lines, "apis", FAIL) == [
        "cloudresourcemanager.googleapis.com is off in my-proj-123, and the stack turns the other APIs on through it: "
        "gcloud services enable cloudresourcemanager.googleapis.com --project my-proj-123"
    ]
    (off,) = lines_of(lines, "apis", NOTE)
    assert off.startswith("off, and the first `pulumi up` turns them on: aiplatform.googleapis.com, iam.googleapis.com (")


def test_bigquery_off_turns_the_table_check_into_a_note(world: World) -> None:
    world.services.enabled.discard("bigquery.googleapis.com")
    lines = world.run()
    assert lines_of(lines, "tables") == [
        "the BigQuery API is off, so the source tables cannot be read yet: turn it on "
        "(gcloud services enable bigquery.googleapis.com --project my-proj-123) and run ./dev preflight again"
    ]
    assert world.bigquery.calls == []


def test_a_refused_api_read_names_the_role(world: World) -> None:
    world.services.inject(world.services.BATCH_GET, http_error(403, "Permission denied to get service [bigquery.googleapis.com]"))
    (line,) = lines_of(world.run(), "apis", FAIL)
    assert line == (
        "cannot read which APIs are on in my-proj-123: Permission denied to get service [bigquery.googleapis.com]. "
        "The deployer needs serviceusage.services.get (roles/serviceusage.serviceUsageAdmin, which also turns them on)"
    )


def test_a_503_and_a_dropped_connection_on_batch_get_are_retried(world: World) -> None:
    world.services.inject(world.services.BATCH_GET, http_error(503, "The service is currently unavailable."), DROPPED)
    lines = world.run()
    assert FAIL not in statuses(lines)
    assert len(world.services.called(world.services.BATCH_GET)) == 3 and world.services.faults_injected == 2


# --- permissions ---------------------------------------------------------------------------------


def test_test_iam_permissions_asks_for_exactly_the_permissions_of_the_stacks_rows(world: World) -> None:
    world.run()
    (request,) = world.projects.calls
    assert request.resource == f"projects/{PROJECT}"
    every_feature = {p for need in permissions.NEEDS if need.on == permissions.PROJECT for p in need.permissions}
    assert sorted(request.permissions) == sorted(every_feature), "the full config brings in every project row"


def test_a_smaller_stack_asks_for_fewer_permissions(world: World) -> None:
    world.run({"gcp:project": PROJECT})
    (request,) = world.projects.calls
    assert "bigquery.transfers.update" not in request.permissions and "aiplatform.models.upload" not in request.permissions
    assert "artifactregistry.repositories.create" not in request.permissions
    assert {"bigquery.datasets.create", "bigquery.jobs.create", "storage.buckets.create"} <= set(request.permissions)


def test_missing_permissions_fail_once_per_role_naming_each_permission_and_what_it_is_for(world: World) -> None:
    world.projects.held -= {"bigquery.transfers.update", "bigquery.transfers.get", "artifactregistry.repositories.create", "iam.serviceAccounts.actAs"}
    failures = lines_of(world.run(), "permissions", FAIL)
    assert len(failures) == 3
    transfers, = (line for line in failures if "roles/bigquery.admin" in line)
    assert transfers.startswith("projects/my-proj-123: missing bigquery.transfers.update, bigquery.transfers.get (for each corpus's scheduled refresh")
    assert any("missing artifactregistry.repositories.create (for the Docker Hub remote repository" in line and "grant roles/artifactregistry.admin" in line for line in failures)
    assert any("missing iam.serviceAccounts.actAs" in line and "grant roles/iam.serviceAccountUser" in line for line in failures)


def test_unavailable_on_test_iam_permissions_is_retried(world: World) -> None:
    world.projects.inject(grpc.StatusCode.UNAVAILABLE, "try again")
    assert lines_of(world.run(), "permissions", OK)
    assert len(world.projects.calls) == 2


def test_a_refused_permission_test_is_a_failure_with_the_servers_words(world: World) -> None:
    world.projects.inject(grpc.StatusCode.PERMISSION_DENIED, "Cloud Resource Manager API has not been used in project 123456789012")
    (line,) = lines_of(world.run(), "permissions", FAIL)
    assert line == "cannot test the deployer's permissions on projects/my-proj-123: Cloud Resource Manager API has not been used in project 123456789012"


# --- tables --------------------------------------------------------------------------------------


def test_a_missing_source_table_fails_with_the_programs_own_line(world: World) -> None:
    del world.bigquery.tables[SOURCE]
    (line,) = lines_of(world.run(), "tables", FAIL)
    assert line == (
        "bqml-text-embeddings:corpora.tickets.table: acme-data.support.tickets does not exist or the deployer cannot read it: "
        "check the table's name and your access"
    )


def test_a_source_table_elsewhere_fails_with_the_location_rule_and_the_fix(world: World) -> None:
    world.bigquery.tables[SOURCE]["location"] = "europe-west1"
    (line,) = lines_of(world.run(), "tables", FAIL)
    assert line.startswith("bqml-text-embeddings:corpora.tickets.table: acme-data.support.tickets is in europe-west1, and BigQuery")
    assert line.endswith("Copy the table to US, or set bqml-text-embeddings:location to europe-west1.")


def test_a_key_bigquery_cannot_group_by_and_a_text_that_is_not_a_string_fail_each(world: World) -> None:
    world.add_source(SOURCE, "US", [{"name": "ticket_id", "type": "FLOAT"}, {"name": "body", "type": "BYTES"}], 10)
    failures = lines_of(world.run(), "tables", FAIL)
    assert failures[0].startswith("bqml-text-embeddings:corpora.tickets.key: ticket_id is FLOAT: a float key is a trap")
    assert failures[1] == "bqml-text-embeddings:corpora.tickets.text: body is BYTES; the text to embed must be a STRING column"
    assert len(failures) == 2


def test_the_sample_tables_column_must_be_a_string_and_is_named_as_samplepredictions_column(world: World) -> None:
    world.add_source(IMDB, "US", [{"name": "review", "type": "INTEGER"}], 5)
    (line,) = lines_of(world.run(), "tables", FAIL)
    assert line == "bqml-text-embeddings:samplePredictions.column: review is INTEGER; the text to embed must be a STRING column"


def test_samples_off_reads_no_sample_table(world: World) -> None:
    world.run({**STACK_CONFIG, "samplePredictions": {"rows": 0}, "evaluation": {"rows": 0}})
    asked = {f"{c['params']['projectId']}.{c['params']['datasetId']}.{c['params']['tableId']}" for c in world.bigquery.called("tables.get")}
    assert asked == {SOURCE}


def test_source_table_permissions_are_tested_on_the_table_and_missing_ones_name_data_owner(world: World) -> None:
    world.bigquery.table_permissions[SOURCE] = {"bigquery.tables.get", "bigquery.tables.getData"}
    lines = world.run()
    (line,) = lines_of(lines, "permissions", FAIL)
    assert line.startswith(
        "bqml-text-embeddings:corpora.tickets.table acme-data.support.tickets: missing bigquery.tables.getIamPolicy, bigquery.tables.setIamPolicy ("
    )
    assert line.endswith("grant roles/bigquery.dataOwner on the table (or its dataset) to the deployer")
    asked = {tuple(sorted(c["body"]["permissions"])) for c in world.bigquery.called("tables.testIamPermissions")}
    assert asked == {
        ("bigquery.tables.get", "bigquery.tables.getData", "bigquery.tables.getIamPolicy", "bigquery.tables.setIamPolicy"),
        ("bigquery.tables.getData",),
    }


def test_a_503_on_tables_get_is_retried_by_the_bigquery_client(world: World) -> None:
    world.bigquery.inject("tables.get", bigquery_error(503, "backendError", "Backend error"))
    assert FAIL not in statuses(world.run())
    assert len(world.bigquery.called("tables.get")) == 3  # the source twice (the fault, then the answer), IMDB once


# --- the serving image ---------------------------------------------------------------------------


def test_the_remote_repository_missing_before_the_first_up_is_a_note_saying_what_the_stack_makes(world: World) -> None:
    world.artifacts.repositories.clear()
    (line,) = lines_of(world.run(), "image")
    assert line.startswith(
        f"projects/{PROJECT}/locations/us-central1/repositories/{REPOSITORY} does not exist yet; the first `pulumi up` makes it "
        "(a Docker Hub remote repository): whether us-central1-docker.pkg.dev/my-proj-123/bqml-te-dev/tensorflow/serving:2.20.0 "
        "resolves through it can be checked only once it exists"
    )
    assert world.artifacts.called(world.artifacts.MANIFEST) == []


def test_the_artifact_registry_api_off_is_a_note_too(world: World) -> None:
    world.artifacts.inject(world.artifacts.GET, service_disabled("artifactregistry.googleapis.com", PROJECT_NUMBER))
    (line,) = lines_of(world.run(), "image")
    assert line.startswith("the Artifact Registry API is off, and the first `pulumi up` turns it on and makes projects/my-proj-123/")


def test_tensorflow_serving_is_resolved_through_the_remote_repository_by_its_manifest(world: World) -> None:
    lines = world.run()
    assert lines_of(lines, "image", OK)[1] == (
        f"us-central1-docker.pkg.dev/{PROJECT}/{REPOSITORY}/tensorflow/serving:2.20.0 resolves to {DIGEST} (the stack's remote repository)"
    )
    (call,) = world.artifacts.called(world.artifacts.MANIFEST)
    assert call["params"] == {"name": f"{PROJECT}/{REPOSITORY}/tensorflow/serving", "reference": "2.20.0"}
    assert "application/vnd.oci.image.index.v1+json" in call["headers"]["Accept"]
    assert world.last_clients.hosts == ["us-central1-docker.pkg.dev"]


def test_an_image_docker_hub_does_not_have_fails(world: World) -> None:
    world.artifacts.docker_hub.clear()
    (line,) = lines_of(world.run(), "image", FAIL)
    assert line.startswith(f"us-central1-docker.pkg.dev/{PROJECT}/{REPOSITORY}/tensorflow/serving:2.20.0 (the stack's remote repository) does not exist")


def test_a_repository_of_that_name_that_is_not_a_docker_hub_remote_fails(world: World) -> None:
    world.artifacts.repositories.clear()
    world.artifacts.add_standard_repository("us-central1", REPOSITORY)
    (line,) = lines_of(world.run(), "image", FAIL)
    assert "exists and is not a Docker Hub remote repository (mode STANDARD_REPOSITORY, upstream None)" in line


def test_a_serving_image_of_ones_own_is_read_from_its_host_and_a_missing_one_fails(world: World) -> None:
    image = f"us-central1-docker.pkg.dev/{PROJECT}/images/serving:2.20.0"
    values = {**BERT_ONLY, "bert": {"servingImage": image}}
    world.artifacts.add_standard_repository("us-central1", "images")
    clients = world.clients()
    settings = settings_from(pulumi_json(values), {})
    (missing,) = image_check.check(clients.artifacts, clients.registry, settings, "dev")
    assert missing.status == FAIL and missing.text.startswith(f"{image} (bqml-text-embeddings:bert.servingImage) does not exist: push it there")
    world.artifacts.images[f"{PROJECT}/images/serving:2.20.0"] = DIGEST
    (found,) = image_check.check(clients.artifacts, clients.registry, settings, "dev")
    assert (found.status, found.text) == (OK, f"{image} resolves to {DIGEST} (bqml-text-embeddings:bert.servingImage)")
    assert clients.hosts == ["us-central1-docker.pkg.dev", "us-central1-docker.pkg.dev"]
    assert world.artifacts.called(world.artifacts.GET) == [], "an image of one's own needs no repository of the stack's"


def test_a_serving_image_by_tag_and_digest_is_read_by_its_digest(world: World) -> None:
    image = f"us-central1-docker.pkg.dev/{PROJECT}/images/serving:2.20.0@{DIGEST}"
    world.artifacts.add_standard_repository("us-central1", "images")
    world.artifacts.images[f"{PROJECT}/images/serving:{DIGEST}"] = DIGEST  # the digest decides what a pull takes
    (line,) = lines_of(world.run({**BERT_ONLY, "bert": {"servingImage": image}}), "image")
    assert line == f"{image} resolves to {DIGEST} (bqml-text-embeddings:bert.servingImage)"


def test_the_prebuilt_runtime_reads_googles_image_from_its_registry(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(config_bert, "_today", lambda: date(2026, 12, 1))  # the runtime is refused after 2027-01-14
    world.artifacts.add_standard_repository("us", "prediction", project="vertex-ai")
    image = "us-docker.pkg.dev/vertex-ai/prediction/tf2-cpu.2-15:latest"
    world.artifacts.images["vertex-ai/prediction/tf2-cpu.2-15:latest"] = DIGEST
    (line,) = lines_of(world.run({**BERT_ONLY, "bert": {"runtime": "prebuilt-tf2-cpu.2-15"}}), "image")
    assert line == f"{image} resolves to {DIGEST} (bqml-text-embeddings:bert.runtime)"
    own = f"us-central1-docker.pkg.dev/{PROJECT}/images/tf2-cpu:2.15"
    world.artifacts.add_standard_repository("us-central1", "images")
    (line,) = lines_of(world.run({**BERT_ONLY, "bert": {"runtime": "prebuilt-tf2-cpu.2-15", "servingImage": own}}), "image")
    assert line.startswith(f"{own} (bqml-text-embeddings:bert.servingImage) does not exist")


def test_a_503_on_the_manifest_and_a_dropped_connection_on_the_repository_are_retried(world: World) -> None:
    world.artifacts.inject(world.artifacts.GET, DROPPED)
    world.artifacts.inject(world.artifacts.MANIFEST, http_error(503, "unavailable"))
    assert len(lines_of(world.run(), "image", OK)) == 2
    assert world.artifacts.faults_injected == 2
    assert len(world.artifacts.called(world.artifacts.MANIFEST)) == 2


def test_no_bert_checks_no_image(world: World) -> None:
    assert lines_of(world.run({"gcp:project": PROJECT}), "image") == []
    assert world.artifacts.calls == []


# --- quotas --------------------------------------------------------------------------------------


def test_quotas_are_read_page_by_page_and_matched_by_metric_and_dimensions(world: World) -> None:
    world.run()
    pages = world.quotas.called(world.quotas.LIST)
    assert [c["args"].get("pageToken") for c in pages] == [None, ["page-2"]], "three quotas at two a page"
    assert {c["params"]["servicesId"] for c in pages} == {"aiplatform.googleapis.com"}
    assert {c["params"]["locationsId"] for c in pages} == {"global"}


def test_the_embedding_quota_says_what_it_implies_for_the_first_fill(world: World) -> None:
    (line,) = lines_of(world.run(), "quotas", OK)[:1]
    assert line == (
        "aiplatform.googleapis.com/online_prediction_requests_per_base_model (base_model textembedding-gecko) in us-central1: "
        "1,500 requests a minute. corpus tickets: a batch of 10,000 rows takes at least 6.7 min, a run of 180 min embeds at most "
        "270,000 rows; the first fill of 1,200,000 rows needs at least 13.3 h of this quota (tickets: 5 run(s)), at one row per request"
    )


def test_an_embedding_quota_of_zero_fails(world: World) -> None:
    world.quotas.infos[1]["dimensionsInfos"][0]["details"]["value"] = "0"
    (line,) = lines_of(world.run(), "quotas", FAIL)
    assert line.startswith(
        "aiplatform.googleapis.com/online_prediction_requests_per_base_model (base_model textembedding-gecko) in us-central1 is 0 "
        "a minute: no row of tickets can be embedded. Request an increase"
    )


def test_the_default_dimension_applies_to_a_base_model_not_named(world: World) -> None:
    values = {**STACK_CONFIG, "textEmbedding": {"endpoint": "gemini-embedding-001"}}
    (line,) = lines_of(world.run(values), "quotas", OK)[:1]
    assert line.startswith("aiplatform.googleapis.com/online_prediction_requests_per_base_model (base_model gemini-embedding) in us-central1: 60 requests")


def test_serving_cpus_below_max_replicas_fail_with_the_largest_count_that_fits(world: World) -> None:
    values = {**STACK_CONFIG, "bert": {"machineType": "n1-standard-4", "maxReplicas": 3}}
    (line,) = lines_of(world.run(values), "quotas", FAIL)
    assert line == (
        f"{CPUS} in us-central1 is 8 vCPUs and bqml-text-embeddings:bert.maxReplicas 3 x n1-standard-4 needs 12: the endpoint could "
        "never scale that far. Request more, or lower bert.maxReplicas to 2"
    )


def test_serving_cpus_below_min_replicas_fail_as_a_refused_deployment(world: World) -> None:
    values = {**STACK_CONFIG, "bert": {"machineType": "n1-highmem-16"}}
    (line,) = lines_of(world.run(values), "quotas", FAIL)
    assert line.startswith(f"{CPUS} in us-central1 is 8 vCPUs and BERT's deployment needs 16 (1 x n1-highmem-16, 16 vCPUs): it would be refused")


def test_cloud_quotas_off_is_a_note_saying_where_to_look(world: World) -> None:
    world.quotas.inject(world.quotas.LIST, service_disabled("cloudquotas.googleapis.com", PROJECT_NUMBER))
    lines = world.run()
    assert lines_of(lines, "quotas", OK) == []
    (line,) = lines_of(lines, "quotas", NOTE)
    assert line.startswith("cannot read quotas: the Cloud Quotas API is off (gcloud services enable cloudquotas.googleapis.com --project my-proj-123")
    assert "metric aiplatform.googleapis.com/online_prediction_requests_per_base_model, aiplatform.googleapis.com/custom_model_serving_cpus" in line


def test_a_429_on_the_quota_list_is_retried(world: World) -> None:
    world.quotas.inject(world.quotas.LIST, http_error(429, "Quota exceeded for quota metric 'Read requests'"))
    assert len(lines_of(world.run(), "quotas", OK)) == 2
    assert len(world.quotas.called(world.quotas.LIST)) == 3


def test_a_stack_without_textembedding_corpora_or_bert_reads_no_quota(world: World) -> None:
    assert lines_of(world.run({"gcp:project": PROJECT, "models": ["nnlm", "textembedding"]}), "quotas") == []
    assert world.quotas.calls == []


def test_a_quota_the_project_does_not_list_and_a_machine_type_of_unknown_size_are_notes(world: World) -> None:
    world.quotas.infos = [info for info in world.quotas.infos if info["metric"] != CPUS]
    (line,) = lines_of(world.run(), "quotas", NOTE)
    assert line == f"{CPUS} in us-central1: not among the project's quotas; see https://console.cloud.google.com/iam-admin/quotas?project={PROJECT}"
    world.quotas.add("CustomModelServingCPUsPerProjectPerRegion", CPUS, ["region"], [({}, 8)])
    (line,) = lines_of(world.run({**STACK_CONFIG, "bert": {"machineType": "e2-medium"}}), "quotas", NOTE)
    assert line.startswith(f"{CPUS} in us-central1: 8 vCPUs; e2-medium's vCPU count is not in its name")


def test_a_source_without_a_row_count_is_still_judged_and_its_fill_time_left_open(world: World) -> None:
    del world.bigquery.tables[SOURCE]["numRows"]  # a view: tables.get gives no numRows
    lines = world.run()
    assert lines_of(lines, "tables", OK)[0].endswith("text body (STRING), rows unknown (a view or external table)")
    assert lines_of(lines, "quotas", OK)[0].endswith("a run of 180 min embeds at most 270,000 rows; rows of tickets unknown")


def test_a_refused_table_permission_test_is_a_note(world: World) -> None:
    world.bigquery.inject("tables.testIamPermissions", bigquery_error(403, "accessDenied", "Access Denied: Table acme-data:support.tickets"))
    lines = world.run()
    assert lines_of(lines, "tables", NOTE) == [
        "bqml-text-embeddings:corpora.tickets.table: cannot test the deployer's permissions on acme-data.support.tickets: "
        "Access Denied: Table acme-data:support.tickets"
    ]
    assert FAIL not in statuses(lines)
