"""GitHub workflows: linted offline against the vendored workflow schema, their guard-rails, and the
one-time Google Cloud set-up in docs/ci.md kept in step with them and with the stack.

The set-up block is run as written, by bash, with `gcloud` and `gh` replaced by recorders; its
Workload Identity Federation conditions are then evaluated against tokens shaped as GitHub's
documentation shows them (GitHub Docs, "OpenID Connect reference").
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
STACK_WORKFLOWS = ("preview.yml", "deploy.yml", "destroy.yml")
DEPLOYING = ("deploy.yml", "destroy.yml")
CI_DOC = ROOT / "docs" / "ci.md"
SETUP_MARKER = "<!-- ci-setup"
# What the recorders answer for the project number and the repository's numeric id.
PROJECT_NUMBER, REPO_ID = "123456789012", "424242"
# Roles that only read; the preview identity may hold nothing else.
READ_ONLY = {
    "roles/storage.objectViewer",
    "roles/bigquery.metadataViewer",
    "roles/aiplatform.viewer",
    "roles/artifactregistry.reader",
    "roles/serviceusage.serviceUsageViewer",
    "roles/iam.serviceAccountViewer",
}


def _lint(*paths: Path) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).parent / "check-jsonschema"
    return subprocess.run(
        [str(exe), "--builtin-schema", "vendor.github-workflows", *map(str, paths)], capture_output=True, text=True
    )


def _load(name: str) -> dict:
    # YAML 1.1 reads the key `on` as True; GitHub means the string.
    data = yaml.safe_load((WORKFLOWS / name).read_text())
    data["on"] = data.pop(True, data.get("on"))
    return data


def _steps(workflow: dict) -> list[dict]:
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def _uses(step: dict) -> str:
    return step.get("uses", "").split("@")[0]


def test_every_workflow_passes_the_schema() -> None:
    files = sorted(WORKFLOWS.glob("*.yml"))
    assert {f.name for f in files} == {"test.yml", *STACK_WORKFLOWS}
    result = _lint(*files)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_linter_catches_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    text = (WORKFLOWS / "deploy.yml").read_text().replace("runs-on: ubuntu-latest", "runs_on: ubuntu-latest")
    broken.write_text(text)
    assert _lint(broken).returncode != 0


def test_permissions_are_empty_by_default_and_granted_per_job() -> None:
    for name in ("test.yml", *STACK_WORKFLOWS):
        workflow = _load(name)
        assert workflow["permissions"] == {}, name
        for job in workflow["jobs"].values():
            assert job["permissions"]["contents"] == "read"
            assert set(job["permissions"]) <= {"contents", "id-token", "pull-requests"}, name
    assert _load("preview.yml")["jobs"]["preview"]["permissions"] == {"contents": "read", "id-token": "write", "pull-requests": "write"}
    assert _load("deploy.yml")["jobs"]["up"]["permissions"] == {"contents": "read", "id-token": "write"}


def test_stack_workflows_share_one_concurrency_group_and_never_cancel() -> None:
    groups = {_load(name)["concurrency"]["group"] for name in STACK_WORKFLOWS}
    assert groups == {"pulumi-stack-${{ vars.PULUMI_STACK || 'dev' }}"}
    assert all(_load(name)["concurrency"]["cancel-in-progress"] is False for name in STACK_WORKFLOWS)


@pytest.mark.parametrize("name", STACK_WORKFLOWS)
def test_google_auth_is_workload_identity_federation_after_checkout(name: str) -> None:
    workflow = _load(name)
    steps = _steps(workflow)
    uses = [_uses(s) for s in steps]
    auth = steps[uses.index("google-github-actions/auth")]
    assert set(auth["with"]) == {"workload_identity_provider", "service_account"}
    assert uses.index("actions/checkout") < uses.index("google-github-actions/auth")
    assert "credentials_json" not in (WORKFLOWS / name).read_text()
    assert uses.index("pulumi/actions") > uses.index("google-github-actions/auth")
    (job,) = workflow["jobs"].values()
    assert job["permissions"]["id-token"] == "write"
    setup = [s for s in steps if s.get("run") == "./dev setup"]
    assert setup and steps.index(setup[0]) < uses.index("pulumi/actions")


def test_preview_comments_the_diff_with_the_policy_pack_and_a_warm_build_cache() -> None:
    workflow = _load("preview.yml")
    assert workflow["on"] == {"pull_request": {"branches": ["main"]}}
    steps = _steps(workflow)
    pulumi = next(s for s in steps if _uses(s) == "pulumi/actions")
    assert pulumi["with"]["command"] == "preview" and pulumi["with"]["comment-on-pr"] is True
    assert pulumi["with"]["policyPacks"] == "policy"
    cache = next(s for s in steps if _uses(s) == "actions/cache")
    assert cache["with"]["path"] == ".build"
    assert "requirements.txt" in cache["with"]["key"] and "bqml_text_embeddings/build/" in cache["with"]["key"] and "Pulumi.yaml" in cache["with"]["key"]
    assert steps.index(cache) < steps.index(pulumi)


def test_main_deploys_and_destroy_needs_the_stack_name_typed() -> None:
    deploy = _load("deploy.yml")
    assert deploy["on"] == {"push": {"branches": ["main"]}}
    assert next(s for s in _steps(deploy) if _uses(s) == "pulumi/actions")["with"]["command"] == "up"

    destroy = _load("destroy.yml")
    assert destroy["on"]["workflow_dispatch"]["inputs"]["confirm"]["required"] is True
    steps = _steps(destroy)
    guard = steps[0]
    assert "$CONFIRM\" != \"$STACK\"" in guard["run"] and "exit 1" in guard["run"]
    assert next(s for s in steps if _uses(s) == "pulumi/actions")["with"]["command"] == "destroy"


def test_the_test_workflow_and_ci_run_the_readmes_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "./dev test" in readme
    assert [s["run"] for s in _steps(_load("test.yml")) if "run" in s] == ["./dev test"]
    ci = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if line and not line.startswith("#")]
    assert ci[-1] == "./dev test"


def test_shell_scripts_parse() -> None:
    for script in (ROOT / "dev", ROOT / ".ci" / "run"):
        assert subprocess.run(["bash", "-n", str(script)]).returncode == 0, script


@pytest.mark.parametrize("skip, expected", [({}, ["up", "--policy-pack", "policy", "--yes"]), ({"SKIP_POLICY_PACK": "1"}, ["up", "--yes"])])
def test_dev_up_applies_the_policy_pack_unless_asked_not_to(tmp_path: Path, skip: dict[str, str], expected: list[str]) -> None:
    # A stand-in Pulumi CLI that records each call's arguments, one NUL-separated call per line.
    calls = tmp_path / "calls"
    fake = tmp_path / "bin" / "pulumi"
    fake.parent.mkdir()
    fake.write_text(f'#!/usr/bin/env bash\nprintf "%s\\0" "$@" >> {calls}\necho >> {calls}\n')
    fake.chmod(0o755)
    env = {
        "PATH": f"{fake.parent}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "PULUMI_BACKEND_URL": "gs://state-bucket",  # not a file backend: nothing is written in the project
        **skip,
    }
    result = subprocess.run([str(ROOT / "dev"), "up", "--yes"], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    invocations = [line.rstrip("\0").split("\0") for line in calls.read_text().splitlines()]
    assert invocations[0] == ["stack", "select", "dev", "--create"]
    assert invocations[-1] == expected


# --- the one-time set-up in docs/ci.md ------------------------------------------------------------

RECORDER = """#!{python}
import json, os, sys
args = sys.argv[1:]
record = {{"tool": os.path.basename(sys.argv[0]), "args": args}}
if "--condition-from-file" in args:
    record["file"] = open(args[args.index("--condition-from-file") + 1]).read()
if "--input" in args and args[args.index("--input") + 1] == "-":
    record["stdin"] = sys.stdin.read()
with open(os.environ["SETUP_LOG"], "a") as log:
    log.write(json.dumps(record) + "\\n")
if args[:2] == ["projects", "describe"]:
    print("{number}")
if args[:1] == ["api"] and "--jq" in args:
    print("{repo_id}")
"""


@dataclass(frozen=True)
class Call:
    tool: str
    args: list[str]
    file: str | None = None
    stdin: str | None = None

    def starts(self, *words: str) -> bool:
        return self.args[: len(words)] == list(words)

    def flag(self, name: str) -> str | None:
        return self.args[self.args.index(name) + 1] if name in self.args else None


@dataclass(frozen=True)
class Setup:
    calls: list[Call]
    repo: str
    stack: str
    project: str

    def gcloud(self, *words: str) -> list[Call]:
        return [c for c in self.calls if c.tool == "gcloud" and c.starts(*words)]

    def gh(self, *words: str) -> list[Call]:
        return [c for c in self.calls if c.tool == "gh" and c.starts(*words)]

    def account(self, name: str) -> str:
        return f"{name}@{self.project}.iam.gserviceaccount.com"

    def grants_to(self, account: str) -> list[Call]:
        """Every allow-policy binding whose member is the service account."""
        return [c for c in self.calls if "add-iam-policy-binding" in c.args and c.flag("--member") == f"serviceAccount:{account}"]

    def impersonators(self, account: str) -> list[str]:
        found = [c for c in self.gcloud("iam", "service-accounts", "add-iam-policy-binding", account)]
        assert all(c.flag("--role") == "roles/iam.workloadIdentityUser" for c in found)
        return [c.flag("--member") or "" for c in found]

    def provider(self, pool: str) -> Call:
        (only,) = [c for c in self.gcloud("iam", "workload-identity-pools", "providers", "create-oidc") if c.flag("--workload-identity-pool") == pool]
        return only

    def variable(self, name: str) -> str:
        (only,) = [c.flag("--body") for c in self.gh("variable", "set", name)]
        return only or ""


def _setup_block() -> str:
    text = CI_DOC.read_text()
    assert text.count(SETUP_MARKER) == 1, "docs/ci.md keeps the set-up in one marked block"
    after = text.split(SETUP_MARKER, 1)[1]
    match = re.match(r"[^\n]*-->\n```bash\n(.*?)\n```\n", after, re.S)
    assert match, "the marker is followed by the ```bash block"
    return match.group(1)


@pytest.fixture(scope="module")
def ci_setup(tmp_path_factory: pytest.TempPathFactory) -> Setup:
    work = tmp_path_factory.mktemp("ci-setup")
    bin_dir = work / "bin"
    bin_dir.mkdir()
    for tool in ("gcloud", "gh"):
        (bin_dir / tool).write_text(RECORDER.format(python=sys.executable, number=PROJECT_NUMBER, repo_id=REPO_ID))
        (bin_dir / tool).chmod(0o755)
    log = work / "calls.jsonl"
    block = _setup_block()
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block],
        cwd=work,
        env={"PATH": f"{bin_dir}:/usr/bin:/bin", "SETUP_LOG": str(log), "HOME": str(work)},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in work.iterdir()) == ["bin", "calls.jsonl"], "the set-up leaves no file behind"
    names = dict(re.findall(r"\b(PROJECT|REPO|STACK)=(\S+)", block.splitlines()[0]))
    calls = [Call(**json.loads(line)) for line in log.read_text().splitlines()]
    return Setup(calls, repo=names["REPO"], stack=names["STACK"], project=names["PROJECT"])


def _role_table(section: str) -> dict[str, str]:
    """A section's table of roles in docs/ci.md: role -> scope."""
    text = CI_DOC.read_text().split(f"\n## {section}", 1)[1].split("\n## ", 1)[0]
    return dict(re.findall(r"^\| `([^`]+)`(?: \(custom\))? \| ([^|]+?) \|", text, re.M))


def _workflow_environment(name: str) -> str | None:
    (job,) = _load(name)["jobs"].values()
    return job.get("environment")


def _default_stack() -> str:
    # Every stack workflow names the stack (and deploy/destroy their environment) the same way.
    match = re.fullmatch(r"\$\{\{ vars\.PULUMI_STACK \|\| '([\w-]+)' \}\}", _workflow_environment("deploy.yml") or "")
    assert match
    return match.group(1)


def _auth(name: str) -> dict[str, str]:
    (auth,) = [s for s in _steps(_load(name)) if _uses(s) == "google-github-actions/auth"]
    return auth["with"]


# GitHub's OIDC token claims (GitHub Docs, "OpenID Connect reference": the claims table and its example
# token). A job names an environment only if it declares one; `ref` and `job_workflow_ref` are the run's.
def _token(
    repo: str, workflow: str, ref: str, event: str, environment: str | None = None, repo_id: str = REPO_ID, job_workflow: str | None = None
) -> dict[str, str]:
    """`job_workflow` is a called (reusable) workflow's path@ref, when the job is one."""
    token = {
        "repository": repo,
        "repository_id": repo_id,
        "ref": ref,
        "ref_type": "branch",
        "event_name": event,
        "workflow_ref": f"{repo}/.github/workflows/{workflow}@{ref}",
        "job_workflow_ref": f"{repo}/.github/workflows/{job_workflow or f'{workflow}@{ref}'}",
        "sub": f"repo:{repo}:environment:{environment}" if environment else f"repo:{repo}:ref:{ref}",
    }
    if environment:
        token["environment"] = environment
    return token


def _admits(condition: str, token: dict[str, str]) -> bool:
    """An attribute condition in the subset of CEL the set-up uses: clauses joined by &&.

    A claim the token lacks makes its clause false, as an error in the condition refuses the token.
    Any other form fails the test: keep the documented conditions in these simple shapes.
    """
    verdicts = []
    for clause in condition.split(" && "):
        if m := re.fullmatch(r"assertion\.(\w+) == '([^']*)'", clause):
            verdicts.append(token.get(m.group(1)) == m.group(2))
        elif m := re.fullmatch(r"assertion\.(\w+) in \[((?:'[^']*'(?:, )?)+)\]", clause):
            verdicts.append(token.get(m.group(1)) in re.findall(r"'([^']*)'", m.group(2)))
        elif m := re.fullmatch(r"assertion\.(\w+)\.startsWith\('([^']*)'\)", clause):
            verdicts.append(m.group(1) in token and token[m.group(1)].startswith(m.group(2)))
        else:
            raise AssertionError(f"unsupported clause in the documented condition: {clause}")
    return all(verdicts)


def test_the_setup_gives_the_preview_identity_only_reads_of_the_state(ci_setup: Setup) -> None:
    preview = ci_setup.account("pulumi-preview")
    grants = ci_setup.grants_to(preview)
    assert grants, "the preview identity reads the state"
    assert {c.flag("--role") for c in grants} <= READ_ONLY
    assert not [c for c in grants if c.starts("projects", "add-iam-policy-binding")], "nothing at project level"
    (state,) = [c.args[3] for c in grants if c.starts("storage", "buckets", "add-iam-policy-binding")]
    assert state == ci_setup.variable("PULUMI_BACKEND_URL") == f"gs://{ci_setup.project}-pulumi-state"
    (bucket,) = ci_setup.gcloud("storage", "buckets", "create", state)
    assert {"--uniform-bucket-level-access", "--public-access-prevention"} <= set(bucket.args)


def test_the_deploy_identity_holds_the_documented_roles_and_project_iam_only_under_a_condition(ci_setup: Setup) -> None:
    deploy = ci_setup.account("pulumi-deploy")
    grants = ci_setup.grants_to(deploy)
    roles = {c.flag("--role"): c for c in grants if c.starts("projects", "add-iam-policy-binding", ci_setup.project)}
    assert len(roles) == len(grants), "every deploy grant is on the project, each once"
    unconditional = {role for role, c in roles.items() if c.flag("--condition") == "None"}
    assert {"roles/owner", "roles/editor", "roles/bigquery.admin", "roles/resourcemanager.projectIamAdmin"}.isdisjoint(unconditional)
    iam_admin = roles["roles/resourcemanager.projectIamAdmin"]
    assert iam_admin.file and iam_admin.flag("--condition") is None
    # The tables in docs/ci.md list exactly what the commands grant, and where.
    documented = _role_table("The deploy identity")
    custom = f"projects/{ci_setup.project}/roles/bqmlTextEmbeddingsDeployer"
    assert {custom if role == "bqmlTextEmbeddingsDeployer" else role for role in documented} == set(roles)
    assert {role for role, scope in documented.items() if scope == "project, **conditional**"} == {"roles/resourcemanager.projectIamAdmin"}
    assert _role_table("The preview identity") == {
        c.flag("--role"): "the state bucket" for c in ci_setup.grants_to(ci_setup.account("pulumi-preview"))
    }
    (role,) = ci_setup.gcloud("iam", "roles", "create", "bqmlTextEmbeddingsDeployer")
    permissions = set((role.flag("--permissions") or "").split(","))
    assert permissions == {
        "bigquery.transfers.get", "bigquery.transfers.update",
        "iam.serviceAccounts.create", "iam.serviceAccounts.delete", "iam.serviceAccounts.get",
        "iam.serviceAccounts.list", "iam.serviceAccounts.update",
    }
    assert not any(p.endswith(("setIamPolicy", "getAccessToken", "signBlob", "signJwt", "keys.create")) for p in permissions)


def test_the_deploy_identity_may_grant_exactly_the_project_roles_the_stack_grants(ci_setup: Setup, base_config: dict) -> None:
    from tests.pulumi_harness import run_program

    corpora = {"tickets": {"table": "acme-data.support.tickets", "key": ["ticket_id"], "text": "body",
                           "models": ["nnlm", "textembedding"], "schedule": "every 24 hours"}}
    run = run_program({**base_config, "models": ["nnlm", "swivel", "bert", "textembedding"], "corpora": corpora})
    granted = {d.inputs["role"] for d in run.of_type("gcp:projects/iAMMember:IAMMember")}
    (iam_admin,) = [c for c in ci_setup.grants_to(ci_setup.account("pulumi-deploy")) if c.flag("--role") == "roles/resourcemanager.projectIamAdmin"]
    condition = yaml.safe_load(iam_admin.file or "")
    match = re.fullmatch(r"api\.getAttribute\('iam\.googleapis\.com/modifiedGrantsByRole', \[\]\)\.hasOnly\(\[(.*)\]\)", condition["expression"])
    assert match, condition
    assert set(re.findall(r"'([^']+)'", match.group(1))) == granted == {"roles/aiplatform.user", "roles/bigquery.jobUser"}
    assert condition["title"]


def test_each_identity_is_impersonated_only_from_its_own_pool_by_this_repository(ci_setup: Setup) -> None:
    pools = f"principalSet://iam.googleapis.com/projects/{PROJECT_NUMBER}/locations/global/workloadIdentityPools"
    assert ci_setup.impersonators(ci_setup.account("pulumi-preview")) == [f"{pools}/github-preview/attribute.repository_id/{REPO_ID}"]
    assert ci_setup.impersonators(ci_setup.account("pulumi-deploy")) == [f"{pools}/github-deploy/attribute.repository_id/{REPO_ID}"]
    for pool in ("github-preview", "github-deploy"):
        provider = ci_setup.provider(pool)
        mapping = dict(item.split("=", 1) for item in (provider.flag("--attribute-mapping") or "").split(","))
        assert mapping["attribute.repository_id"] == "assertion.repository_id"
        assert provider.flag("--issuer-uri") == "https://token.actions.githubusercontent.com"


def _deploy_cases(repo: str, stack: str) -> list[tuple[str, dict[str, str], bool]]:
    main = "refs/heads/main"
    pr = "refs/pull/7/merge"
    return [
        ("deploy.yml on main, in the environment", _token(repo, "deploy.yml", main, "push", stack), True),
        ("destroy.yml dispatched on main, in the environment", _token(repo, "destroy.yml", main, "workflow_dispatch", stack), True),
        ("a pull request's preview", _token(repo, "preview.yml", pr, "pull_request"), False),
        ("a pull request that names the environment", _token(repo, "preview.yml", pr, "pull_request", stack), False),
        ("a pull request that renamed its workflow deploy.yml", _token(repo, "deploy.yml", pr, "pull_request", stack), False),
        ("destroy.yml dispatched from a branch", _token(repo, "destroy.yml", "refs/heads/mine", "workflow_dispatch", stack), False),
        ("deploy.yml on main without the environment", _token(repo, "deploy.yml", main, "push"), False),
        ("deploy.yml on main in another environment", _token(repo, "deploy.yml", main, "push", "other"), False),
        ("another workflow on main in the environment", _token(repo, "test.yml", main, "push", stack), False),
        # Were deploy.yml ever callable (workflow_call), a pull request's workflow could call main's copy:
        # the called file's ref is main, and its job names the environment, but the run's ref is the PR's.
        ("a pull request calling main's deploy.yml", _token(repo, "preview.yml", pr, "pull_request", stack, job_workflow=f"deploy.yml@{main}"), False),
        ("a re-created repository of the same name", _token(repo, "deploy.yml", main, "push", stack, repo_id="999"), False),
    ]


def test_only_main_deploy_and_destroy_in_the_environment_get_the_deploy_identity(ci_setup: Setup) -> None:
    condition = ci_setup.provider("github-deploy").flag("--attribute-condition") or ""
    for what, token, admitted in _deploy_cases(ci_setup.repo, ci_setup.stack):
        assert _admits(condition, token) is admitted, what


def test_only_pull_request_previews_get_the_preview_identity(ci_setup: Setup) -> None:
    condition = ci_setup.provider("github-preview").flag("--attribute-condition") or ""
    pr = "refs/pull/7/merge"
    assert _admits(condition, _token(ci_setup.repo, "preview.yml", pr, "pull_request"))
    assert not _admits(condition, _token(ci_setup.repo, "deploy.yml", "refs/heads/main", "push", ci_setup.stack))
    assert not _admits(condition, _token(ci_setup.repo, "test.yml", pr, "pull_request"))
    # A branch may give its copy of preview.yml other triggers: only a pull request's run is admitted.
    assert not _admits(condition, _token(ci_setup.repo, "preview.yml", "refs/heads/mine", "push"))
    assert not _admits(condition, _token(ci_setup.repo, "preview.yml", pr, "pull_request", repo_id="999"))


def test_the_conditions_name_the_workflows_and_environment_that_exist(ci_setup: Setup) -> None:
    deploy = ci_setup.provider("github-deploy").flag("--attribute-condition") or ""
    named = set(re.findall(r"/\.github/workflows/([\w.-]+)@", deploy))
    assert named == set(DEPLOYING) and all((WORKFLOWS / name).exists() for name in named)
    preview = ci_setup.provider("github-preview").flag("--attribute-condition") or ""
    assert set(re.findall(r"/\.github/workflows/([\w.-]+)@", preview)) == {"preview.yml"}
    assert ci_setup.stack == _default_stack()
    assert ci_setup.variable("PULUMI_STACK") == ci_setup.stack
    for name in DEPLOYING:
        assert _workflow_environment(name) == "${{ vars.PULUMI_STACK || 'dev' }}", name
    assert _workflow_environment("preview.yml") is None


def test_each_workflow_authenticates_as_its_own_identity(ci_setup: Setup) -> None:
    pools = f"projects/{PROJECT_NUMBER}/locations/global/workloadIdentityPools"
    identities = {
        "PREVIEW": ("github-preview", ci_setup.account("pulumi-preview"), ("preview.yml",)),
        "DEPLOY": ("github-deploy", ci_setup.account("pulumi-deploy"), DEPLOYING),
    }
    for kind, (pool, account, workflows) in identities.items():
        assert ci_setup.variable(f"GCP_{kind}_WORKLOAD_IDENTITY_PROVIDER") == f"{pools}/{pool}/providers/github"
        assert ci_setup.provider(pool).args[4] == "github"
        assert ci_setup.variable(f"GCP_{kind}_SERVICE_ACCOUNT") == account
        for name in workflows:
            assert _auth(name) == {
                "workload_identity_provider": f"${{{{ vars.GCP_{kind}_WORKLOAD_IDENTITY_PROVIDER }}}}",
                "service_account": f"${{{{ vars.GCP_{kind}_SERVICE_ACCOUNT }}}}",
            }, name
    assert "GCP_DEPLOY" not in (WORKFLOWS / "preview.yml").read_text()
    assert not any("GCP_PREVIEW" in (WORKFLOWS / name).read_text() for name in DEPLOYING)


def test_every_setting_the_workflows_read_is_set_up(ci_setup: Setup) -> None:
    text = "".join((WORKFLOWS / name).read_text() for name in STACK_WORKFLOWS)
    assert set(re.findall(r"vars\.(\w+)", text)) == {c.args[2] for c in ci_setup.gh("variable", "set")}
    assert set(re.findall(r"secrets\.(\w+)", text)) - {"GITHUB_TOKEN"} == {c.args[2] for c in ci_setup.gh("secret", "set")}


def test_the_environment_takes_main_only_and_deploy_and_destroy_run_only_there(ci_setup: Setup) -> None:
    (environment,) = ci_setup.gh("api", "--method", "PUT", f"repos/{ci_setup.repo}/environments/{ci_setup.stack}")
    assert json.loads(environment.stdin or "")["deployment_branch_policy"] == {"protected_branches": False, "custom_branch_policies": True}
    (policy,) = ci_setup.gh("api", "--method", "POST", f"repos/{ci_setup.repo}/environments/{ci_setup.stack}/deployment-branch-policies")
    assert policy.args[4:] == ["-f", "name=main", "-f", "type=branch"]
    assert _load("deploy.yml")["on"] == {"push": {"branches": ["main"]}}
    (destroy,) = _load("destroy.yml")["jobs"].values()
    assert destroy["if"] == "github.ref == 'refs/heads/main'"


def test_previews_never_refresh(ci_setup: Setup) -> None:
    # A refresh runs the SQL resources' reads, which query the project: more than the preview identity may do.
    pulumi = next(s for s in _steps(_load("preview.yml")) if _uses(s) == "pulumi/actions")
    assert "refresh" not in pulumi["with"] and "refresh" not in json.dumps(_load("preview.yml"))
