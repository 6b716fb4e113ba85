"""What the deployer must be allowed to do for `pulumi up` and `pulumi destroy` of this stack.

`NEEDS` is the one list: per resource the program declares (or per table it reads), the
permissions its create, read, update and delete take, the predefined role that grants them, and
the page that says so. The preflight asks `projects.testIamPermissions` for the project's rows and
BigQuery's `tables.testIamPermissions` for the source tables' rows; a test checks that every
resource type the program declares has its row, so a new resource cannot go unlisted.

What is not here, and why: every table, model, routine, view, vector index and dataset or table
grant inside the stack's dataset. BigQuery makes whoever creates a dataset its OWNER ("When you
create a new dataset, BigQuery adds ... the dataset creator: OWNER", bigquery/docs/access-control-basic-roles),
and a dataset OWNER holds roles/bigquery.dataOwner over everything in it; so those need nothing
at the project level beyond `bigquery.datasets.create`. A dataset someone else made first is the
exception: its OWNER must grant the deployer roles/bigquery.dataOwner on it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bqml_text_embeddings.config.rules import REMOTE_MODELS
from stack.config import Settings
from stack.preflight import rest
from stack.preflight.report import Line, fail, ok

CHECK = "permissions"

# Where a permission is checked.
PROJECT, SOURCE_TABLE, SAMPLE_TABLE = "project", "corpus source table", "sample table"

# When a row applies: a feature of the stack (see features()).
ALWAYS, CONNECTION, BERT, BERT_MIRROR, CORPORA, CORPUS_REMOTE, SAMPLES = (
    "always", "a remote model", "bert", "bert through the remote repository", "corpora", "a corpus a remote model embeds", "sample tables",
)


@dataclass(frozen=True)
class Need:
    resources: tuple[str, ...]  # Pulumi types (or, for the program's dynamic resources, dynamic:KIND) this row is for
    permissions: tuple[str, ...]  # empty: nothing beyond what another row or the dataset's ownership gives
    role: str  # a predefined role that grants them
    on: str  # PROJECT, SOURCE_TABLE or SAMPLE_TABLE
    when: str  # the feature that brings these resources in
    why: str
    source: str


_IAM = "https://cloud.google.com/iam/docs/roles-permissions/"
_BQ = "https://cloud.google.com/bigquery/docs/"

NEEDS: tuple[Need, ...] = (
    Need(("gcp:projects/service:Service",),
         ("serviceusage.services.enable", "serviceusage.services.get", "serviceusage.services.list"),
         "roles/serviceusage.serviceUsageAdmin", PROJECT, ALWAYS,
         "turning the APIs on and reading their state (the provider lists the enabled services)",
         "https://cloud.google.com/service-usage/docs/access-control; " + _IAM + "serviceusage"),
    Need(("gcp:bigquery/dataset:Dataset",), ("bigquery.datasets.create",),
         "roles/bigquery.user", PROJECT, ALWAYS,
         "the dataset; its creator becomes its OWNER, which covers everything made inside it",
         _BQ + "datasets#required_permissions; " + _BQ + "access-control-basic-roles"),
    Need(("dynamic:statement", "dynamic:first-fill"), ("bigquery.jobs.create",),
         "roles/bigquery.user", PROJECT, ALWAYS,
         "every statement (CREATE MODEL/TABLE/…, DROP) and a corpus's first fill run as query jobs in the project",
         _BQ + "running-queries#required_permissions"),
    Need(("gcp:storage/bucket:Bucket",),
         ("storage.buckets.create", "storage.buckets.get", "storage.buckets.update", "storage.buckets.delete"),
         "roles/storage.admin", PROJECT, ALWAYS,
         "the models' buckets (storage.buckets.create is in no narrower predefined role)",
         "https://cloud.google.com/storage/docs/access-control/iam-permissions; " + _IAM + "storage"),
    Need(("gcp:storage/bucketObject:BucketObject",),
         ("storage.objects.create", "storage.objects.get", "storage.objects.list", "storage.objects.delete"),
         "roles/storage.admin", PROJECT, ALWAYS,
         "each SavedModel file, emptied buckets on destroy, and CREATE MODEL, which reads model_path with the deployer's credentials",
         "https://cloud.google.com/storage/docs/access-control/iam-permissions; " + _BQ + "reference/standard-sql/bigqueryml-syntax-create-tensorflow"),
    Need(("gcp:bigquery/connection:Connection",),
         ("bigquery.connections.create", "bigquery.connections.get", "bigquery.connections.update",
          "bigquery.connections.delete", "bigquery.connections.delegate"),
         "roles/bigquery.connectionAdmin", PROJECT, CONNECTION,
         "the Cloud resource connection, and CREATE MODEL … REMOTE WITH CONNECTION (delegate)",
         _BQ + "create-cloud-resource-connection; " + _BQ + "working-with-connections; "
         + _BQ + "reference/standard-sql/bigqueryml-syntax-create-remote-model"),
    Need(("gcp:projects/iAMMember:IAMMember",),
         ("resourcemanager.projects.getIamPolicy", "resourcemanager.projects.setIamPolicy"),
         "roles/resourcemanager.projectIamAdmin", PROJECT, CONNECTION,
         "granting the connection's service account roles/aiplatform.user (a non-authoritative member)",
         "https://cloud.google.com/iam/docs/granting-changing-revoking-access"),
    Need(("gcp:projects/iAMMember:IAMMember",),
         ("resourcemanager.projects.getIamPolicy", "resourcemanager.projects.setIamPolicy"),
         "roles/resourcemanager.projectIamAdmin", PROJECT, CORPORA,
         "granting each corpus's service account roles/bigquery.jobUser (a non-authoritative member)",
         "https://cloud.google.com/iam/docs/granting-changing-revoking-access"),
    Need(("time:index/sleep:Sleep",), (), "", PROJECT, CONNECTION,
         "a wait for the connection's new identity to reach IAM: no Google call",
         "https://www.pulumi.com/registry/packages/time/"),
    Need(("time:index/sleep:Sleep",), (), "", PROJECT, CORPORA,
         "a wait for a corpus's new service account to reach IAM: no Google call",
         "https://www.pulumi.com/registry/packages/time/"),
    Need(("dynamic:vertex-model",),
         ("aiplatform.models.upload", "aiplatform.models.get", "aiplatform.models.list", "aiplatform.models.delete"),
         "roles/aiplatform.user", PROJECT, BERT,
         "BERT in the Model Registry (bqml_text_embeddings/vertex/ops.py: ListModels, UploadModel, GetModel, DeleteModel)",
         "https://cloud.google.com/vertex-ai/docs/general/access-control; " + _IAM + "aiplatform"),
    Need(("gcp:vertex/aiEndpoint:AiEndpoint", "dynamic:vertex-deployment"),
         ("aiplatform.endpoints.create", "aiplatform.endpoints.get", "aiplatform.endpoints.update", "aiplatform.endpoints.delete",
          "aiplatform.endpoints.deploy", "aiplatform.endpoints.undeploy"),
         "roles/aiplatform.user", PROJECT, BERT,
         "BERT's endpoint and its deployment (GetEndpoint, DeployModel, UndeployModel)",
         "https://cloud.google.com/vertex-ai/docs/general/access-control; " + _IAM + "aiplatform"),
    Need(("dynamic:row-copy",), (), "", PROJECT, BERT,
         "BERT's sample and evaluation rows copied into its dataset in gcp:region, and its figures back: query and load "
         "jobs (bigquery.jobs.create, the statements' row) writing tables of datasets the deployer created, so owns",
         _BQ + "batch-loading-data#required_permissions; " + _BQ + "access-control-basic-roles"),
    Need(("gcp:artifactregistry/repository:Repository",),
         ("artifactregistry.repositories.create", "artifactregistry.repositories.get",
          "artifactregistry.repositories.update", "artifactregistry.repositories.delete"),
         "roles/artifactregistry.admin", PROJECT, BERT_MIRROR,
         "the Docker Hub remote repository TensorFlow Serving's image comes through (create is in no narrower predefined role)",
         "https://cloud.google.com/artifact-registry/docs/access-control; " + _IAM + "artifactregistry"),
    Need(("dynamic:serving-image",), ("artifactregistry.repositories.downloadArtifacts",),
         "roles/artifactregistry.admin", PROJECT, BERT_MIRROR,
         "TensorFlow Serving's tag resolved to its digest through that repository once, to pin it (bqml_text_embeddings/vertex/image_pin.py)",
         "https://cloud.google.com/artifact-registry/docs/access-control; " + _IAM + "artifactregistry"),
    Need(("gcp:serviceaccount/account:Account",),
         ("iam.serviceAccounts.create", "iam.serviceAccounts.get", "iam.serviceAccounts.update", "iam.serviceAccounts.delete"),
         "roles/iam.serviceAccountAdmin", PROJECT, CORPORA,
         "each corpus's service account",
         "https://cloud.google.com/iam/docs/service-accounts-create; " + _IAM + "iam"),
    Need(("gcp:bigquery/dataTransferConfig:DataTransferConfig",), ("iam.serviceAccounts.actAs",),
         "roles/iam.serviceAccountUser", PROJECT, CORPORA,
         "each scheduled query runs as its corpus's service account",
         _BQ + "use-service-accounts; " + _BQ + "scheduling-queries"),
    Need(("gcp:bigquery/dataTransferConfig:DataTransferConfig",), ("bigquery.transfers.update", "bigquery.transfers.get"),
         "roles/bigquery.admin", PROJECT, CORPORA,
         "each corpus's scheduled refresh (create, update and delete are transfers.update; in no narrower predefined role)",
         _BQ + "dts-authentication-authorization; " + _BQ + "use-service-accounts"),
    Need(("gcp:bigquery/connectionIamMember:ConnectionIamMember",),
         ("bigquery.connections.getIamPolicy", "bigquery.connections.setIamPolicy"),
         "roles/bigquery.connectionAdmin", PROJECT, CORPUS_REMOTE,
         "letting a corpus's service account use the connection (roles/bigquery.connectionUser)",
         _BQ + "working-with-connections"),
    Need(("gcp:bigquery/datasetIamMember:DatasetIamMember", "gcp:bigquery/iamMember:IamMember", "dynamic:statement"), (),
         "", PROJECT, ALWAYS,
         "tables, models, routines, views, vector indexes and grants inside the stack's dataset: the creator's OWNER role on it",
         _BQ + "access-control-basic-roles"),
    Need(("dynamic:source-table-check", "gcp:bigquery/iamMember:IamMember", "dynamic:first-fill"),
         ("bigquery.tables.get", "bigquery.tables.getData", "bigquery.tables.getIamPolicy", "bigquery.tables.setIamPolicy"),
         "roles/bigquery.dataOwner", SOURCE_TABLE, CORPORA,
         "the source-table check (tables.get), the first fill (runs as the deployer and reads it), and the grant that "
         "lets the corpus's service account read it",
         _BQ + "control-access-to-resources-iam; " + _IAM + "bigquery"),
    Need(("dynamic:statement",), ("bigquery.tables.getData",),
         "roles/bigquery.dataViewer", SAMPLE_TABLE, SAMPLES,
         "the sample query reads samplePredictions.table as the deployer",
         _BQ + "control-access-to-resources-iam; " + _IAM + "bigquery"),
)


def features(settings: Settings) -> frozenset[str]:
    found = {ALWAYS}
    if settings.with_connection:
        found.add(CONNECTION)
    if settings.with_bert:
        found.add(BERT)
        if settings.bert.mirrors_image:
            found.add(BERT_MIRROR)
    if settings.corpora:
        found.add(CORPORA)
        if any(model in REMOTE_MODELS for corpus in settings.corpora for model in corpus.models):
            found.add(CORPUS_REMOTE)
    if settings.samples.enabled:
        found.add(SAMPLES)
    return frozenset(found)


def needed(settings: Settings, on: str) -> list[Need]:
    """The rows that apply to this stack and are checked on `on`, each with permissions to ask for."""
    active = features(settings)
    return [need for need in NEEDS if need.on == on and need.when in active and need.permissions]


def missing_lines(needs: Iterable[Need], held: set[str], where: str, scope: str) -> list[Line]:
    """One FAIL per role whose permissions are not all held, naming them, what they are for and the grant."""
    by_role: dict[str, tuple[list[str], list[str]]] = {}
    for need in needs:
        absent = [p for p in need.permissions if p not in held]
        if absent:
            perms, whys = by_role.setdefault(need.role, ([], []))
            perms.extend(p for p in absent if p not in perms)
            whys.append(need.why)
    return [
        fail(CHECK, f"{where}: missing {', '.join(perms)} (for {'; '.join(whys)}): grant {role} {scope}")
        for role, (perms, whys) in by_role.items()
    ]


def check(projects: Any, settings: Settings) -> list[Line]:
    """projects.testIamPermissions on the project with every permission the stack's project rows name."""
    needs = needed(settings, PROJECT)
    wanted = sorted({p for need in needs for p in need.permissions})
    resource = f"projects/{settings.project}"
    try:
        response = projects.test_iam_permissions(request={"resource": resource, "permissions": wanted}, retry=rest.transient_retry())
    except Exception as exc:  # noqa: BLE001 - reported; the other checks still run
        return [fail(CHECK, f"cannot test the deployer's permissions on {resource}: {rest.message(exc)}")]
    held = set(response.permissions)
    lines = missing_lines(needs, held, resource, f"on {resource} to the deployer (see docs/preflight.md, \"Permissions\")")
    if not lines:
        lines = [ok(CHECK, f"the deployer holds the {len(wanted)} permissions this stack's `pulumi up` and `pulumi destroy` need on {resource}")]
    return lines
