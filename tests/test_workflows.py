"""GitHub workflows: linted offline against the vendored workflow schema, and their guard-rails."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
STACK_WORKFLOWS = ("preview.yml", "deploy.yml", "destroy.yml")


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
    assert "requirements.txt" in cache["with"]["key"] and "model_build/" in cache["with"]["key"] and "Pulumi.yaml" in cache["with"]["key"]
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
