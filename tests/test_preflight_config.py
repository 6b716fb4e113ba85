"""`./dev preflight` reads the stack's config as the program does: through `pulumi config --json` or a file, then `stack.config.parse`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pulumi
import pytest

from stack import config
from stack.preflight import stack_config
from stack.preflight.__main__ import main
from stack.preflight.run import make_clients
from tests.pulumi_harness import to_config
from tests.wire.preflight_world import PROJECT, STACK_CONFIG, pulumi_json, write_config

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = [
    STACK_CONFIG,
    {"gcp:project": PROJECT},
    {
        "gcp:project": PROJECT,
        "gcp:region": "europe-west4",
        "location": "eu",
        "dataset": "embeddings",
        "buildJobs": 2,
        "models": ["bert", "swivel"],
        "bert": {"machineType": "n1-standard-4", "maxReplicas": 3, "servingImage": f"europe-west4-docker.pkg.dev/{PROJECT}/images/serving:2.20.0"},
        "samplePredictions": {"rows": 0},
        "evaluation": {"rows": 0},
    },
]


def program_settings(values: dict[str, Any]) -> config.Settings:
    """What `pulumi up` reads: stack.config.from_pulumi over the engine's config map."""
    pulumi.runtime.set_all_config(to_config(values))
    try:
        return config.from_pulumi()
    finally:
        pulumi.runtime.set_all_config({})


@pytest.mark.parametrize("values", CONFIGS, ids=["full", "defaults", "eu-bert-image"])
def test_the_settings_are_the_programs_own(values: dict[str, Any]) -> None:
    assert stack_config.settings_from(pulumi_json(values), {}) == program_settings(values)


def test_a_misspelt_key_stops_the_preflight_as_it_stops_pulumi_up(tmp_path: Path) -> None:
    values = {**STACK_CONFIG, "modles": ["nnlm"]}
    with pytest.raises(config.ConfigError) as program:
        program_settings(values)
    printed: list[str] = []
    code = main(["--config", str(write_config(tmp_path / "c.json", values))], lambda _p: pytest.fail("no client before a valid config"), {}, printed.append)
    assert (code, printed) == (2, [f"FAIL config: {program.value}"])
    assert "bqml-text-embeddings:modles: unknown key; did you mean models?" in printed[0]


def test_google_cloud_project_stands_in_for_a_missing_gcp_project_as_dev_up_sets_it() -> None:
    settings = stack_config.settings_from({}, {"GOOGLE_CLOUD_PROJECT": "other-proj-9"})
    assert settings.project == "other-proj-9" and settings.models == ("nnlm", "swivel")
    with pytest.raises(config.ConfigError, match="gcp:project: required"):
        stack_config.settings_from({}, {})


def test_a_file_that_is_not_pulumi_config_json_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"gcp:project": PROJECT}))
    with pytest.raises(config.ConfigError, match="expected the output of `pulumi config --json`"):
        stack_config.from_file(path, "dev", {})
    with pytest.raises(stack_config.SetupError, match="cannot read"):
        stack_config.from_file(tmp_path / "absent.json", "dev", {})


# --- through the Pulumi CLI ----------------------------------------------------------------------

FAKE_PULUMI = """#!{python}
import json, sys
with open({log!r}, "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
if sys.argv[1:3] == ["stack", "ls"]:
    print(json.dumps([{{"name": name, "current": False}} for name in {stacks!r}]))
elif sys.argv[1:2] == ["config"]:
    print(json.dumps({config!r}))
else:
    sys.exit(3)
"""


def fake_pulumi(tmp_path: Path, stacks: list[str], values: dict[str, Any]) -> tuple[Path, Path]:
    """A `pulumi` on PATH that answers `stack ls --json` and `config --json`, and logs its arguments."""
    folder, log = tmp_path / "bin", tmp_path / "pulumi.log"
    folder.mkdir()
    script = folder / "pulumi"
    script.write_text(FAKE_PULUMI.format(python=sys.executable, log=str(log), stacks=stacks, config=pulumi_json(values)))
    script.chmod(0o755)
    return folder, log


def test_an_existing_stack_is_read_with_pulumi_config_json_and_nothing_else(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder, log = fake_pulumi(tmp_path, ["organization/bqml-text-embeddings/prod", "dev"], STACK_CONFIG)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    stack = stack_config.from_pulumi("prod", {})
    assert (stack.name, stack.origin) == ("prod", "stack prod")
    assert stack.settings == stack_config.settings_from(pulumi_json(STACK_CONFIG), {})
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    assert calls == [["stack", "ls", "--json"], ["config", "--json", "--stack", "prod"]], "read-only: no select, no init"


def test_a_stack_not_made_yet_is_checked_with_the_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder, log = fake_pulumi(tmp_path, ["staging"], STACK_CONFIG)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    stack = stack_config.from_pulumi("dev", {"GOOGLE_CLOUD_PROJECT": PROJECT})
    assert stack.origin == "defaults: stack dev does not exist yet"
    assert stack.settings == stack_config.settings_from({}, {"GOOGLE_CLOUD_PROJECT": PROJECT})
    assert [json.loads(line) for line in log.read_text().splitlines()] == [["stack", "ls", "--json"]]


def test_no_pulumi_cli_says_how_to_go_on_without_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(stack_config.SetupError, match=r"the Pulumi CLI is not installed .* --config FILE.json"):
        stack_config.from_pulumi("dev", {})


# --- the command, through ./dev ------------------------------------------------------------------


def dev(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(ROOT / "dev"), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def offline_env(tmp_path: Path) -> dict[str, str]:
    """No Application Default Credentials anywhere google.auth looks, and no metadata server to ask."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GOOGLE_", "CLOUDSDK_", "PULUMI_"))}
    return {**env, "HOME": str(tmp_path), "CLOUDSDK_CONFIG": str(tmp_path / "gcloud"), "NO_GCE_CHECK": "True"}


def test_dev_preflight_with_a_bad_config_exits_2_naming_the_key(tmp_path: Path) -> None:
    path = write_config(tmp_path / "c.json", {**STACK_CONFIG, "bert": {"maxReplicas": 0}})
    done = dev("preflight", "--config", str(path), env=offline_env(tmp_path))
    assert done.returncode == 2, done.stdout + done.stderr
    assert "FAIL config: invalid configuration:" in done.stdout and "bqml-text-embeddings:bert.maxReplicas: 0: give a whole number" in done.stdout


def test_dev_preflight_without_credentials_exits_2_saying_how_to_log_in(tmp_path: Path) -> None:
    done = dev("preflight", "--config", str(write_config(tmp_path / "c.json", STACK_CONFIG)), env=offline_env(tmp_path))
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"preflight of project {PROJECT} (config: {tmp_path / 'c.json'})"
    assert lines[1].startswith("FAIL credentials: ") and lines[1].endswith("(run `gcloud auth application-default login`)")
    assert "FutureWarning" not in done.stderr


def test_adc_without_a_quota_project_reads_on_the_stacks_and_one_set_is_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    user = {"type": "authorized_user", "client_id": "id.apps.googleusercontent.com", "client_secret": "s", "refresh_token": "r"}
    for extra, expected in (({}, PROJECT), ({"quota_project_id": "billing-proj"}, "billing-proj")):
        path = tmp_path / "adc.json"
        path.write_text(json.dumps({**user, **extra}))
        monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(path))
        clients = make_clients(PROJECT)
        for client in (clients.services, clients.artifacts, clients.quotas, clients.registry("us-docker.pkg.dev")):
            assert client.session.credentials.quota_project_id == expected
        assert clients.bigquery.project == PROJECT
        assert clients.registry("europe-west4-docker.pkg.dev").root == "https://europe-west4-docker.pkg.dev"
