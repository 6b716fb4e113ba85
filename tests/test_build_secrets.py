"""A modelSources mirror with credentials in its URL: the build uses it whole, writes and says none of it."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pulumi
import pytest

from bqml_text_embeddings.build import BuildError, cache, catalog, ensure_all_built, ensure_built
from bqml_text_embeddings.build.redact import redact

PASSWORD = "pw-7Hq2Zx9"
TOKEN = "tok-4Kd8Lm1"
SECRETS = (PASSWORD, TOKEN)


def _mirror(host: str = "models.example.com") -> str:
    return f"https://mirror-user:{PASSWORD}@{host}/nnlm-en-dim50/2?X-Goog-Signature={TOKEN}&page=1"


def _leaks(build_dir: Path) -> list[str]:
    """Every file under the build dir (its name or its bytes) that holds a secret."""
    found = []
    for path in sorted(build_dir.rglob("*")):
        data = path.read_bytes() if path.is_file() else b""
        if any(secret in str(path) or secret.encode() in data for secret in SECRETS):
            found.append(str(path.relative_to(build_dir)))
    return found


@pytest.mark.parametrize(
    "text, shown",
    [
        ("https://tfhub.dev/google/nnlm-en-dim50/2", "https://tfhub.dev/google/nnlm-en-dim50/2"),
        ("gs://mirror/bert_en_cased_L-12_H-768_A-12/4", "gs://mirror/bert_en_cased_L-12_H-768_A-12/4"),
        ("/models/nnlm", "/models/nnlm"),
        ("https://user:pass@mirror.example.com/m.tar.gz", "https://REDACTED@mirror.example.com/m.tar.gz"),
        ("https://TOKEN@mirror.example.com/m", "https://REDACTED@mirror.example.com/m"),
        ("https://u:p/a?b#c@d@host/m?x=1", "https://REDACTED@host/m?x=1"),  # unescaped marks in a password
        (
            "https://storage.googleapis.com/b/m.tar.gz?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Credential=sa%40p"
            "&X-Goog-Date=20261125T000000Z&X-Goog-Expires=900&X-Goog-Signature=0a1b",
            "https://storage.googleapis.com/b/m.tar.gz?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Credential=REDACTED"
            "&X-Goog-Date=20261125T000000Z&X-Goog-Expires=900&X-Goog-Signature=REDACTED",
        ),
        (
            "https://h/m?token=a&access_token=b&key=c&sig=d&api%5Fkey=e&page=2#id_token=f",
            "https://h/m?token=REDACTED&access_token=REDACTED&key=REDACTED&sig=REDACTED&api%5Fkey=REDACTED&page=2#id_token=REDACTED",
        ),
        ("source nnlm: cannot load https://u:p@h/m: HTTP Error 401", "source nnlm: cannot load https://REDACTED@h/m: HTTP Error 401"),
    ],
)
def test_credentials_in_a_url_are_blanked_and_nothing_else(text: str, shown: str) -> None:
    assert redact(text) == shown
    assert redact(shown) == shown


def test_a_build_from_a_mirror_with_a_password_writes_and_logs_no_secret(
    hub_sources: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    """The mirror is served by the fake hub's nnlm; TensorFlow Hub is asked for the URL as given."""
    import tensorflow_hub as hub

    url = _mirror()
    asked: list[str] = []
    real = hub.load
    monkeypatch.setattr(hub, "load", lambda handle, *a, **k: asked.append(handle) or real(str(hub_sources["nnlm"]), *a, **k))
    caplog.set_level(logging.DEBUG)
    build_dir = tmp_path / "build"
    built = ensure_built("nnlm", {"nnlm": url}, build_dir)
    assert asked == [url]  # the whole handle, credentials and all, reaches the loader
    assert built.manifest["sources"] == {"nnlm": "https://REDACTED@models.example.com/nnlm-en-dim50/2?X-Goog-Signature=REDACTED&page=1"}
    assert built.manifest["check"]["bigquery"]["ok"]
    assert _leaks(build_dir) == []
    out, err = capfd.readouterr()
    assert not any(secret in text for secret in SECRETS for text in (out, err, caplog.text))
    # The key hashes the full value: another password or token is another source, the same one the same build.
    spec = catalog.get("nnlm")
    key = cache.cache_key(spec, {"nnlm": url})
    assert cache.cache_key(spec, {"nnlm": url.replace(PASSWORD, "other")}) != key
    assert cache.cache_key(spec, {"nnlm": url.replace(TOKEN, "other")}) != key
    assert built.manifest["cache_key"] == key


def test_a_failed_download_through_the_build_server_names_the_source_without_its_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TFHUB_CACHE_DIR", str(tmp_path / "hub"))  # TensorFlow Hub's own cache, kept out of /tmp
    lines: list[str] = []
    build_dir = tmp_path / "build"
    with pytest.raises(BuildError) as failure:
        ensure_all_built({"nnlm": {"nnlm": _mirror("127.0.0.1:9")}}, build_dir, jobs=1, report=lines.append)
    message = str(failure.value)
    assert message.startswith("source nnlm: cannot load https://REDACTED@127.0.0.1:9/nnlm-en-dim50/2?X-Goog-Signature=REDACTED&page=1")
    assert lines == ["building nnlm", "building nnlm failed"]
    assert not any(secret in text for secret in SECRETS for text in (message, *lines))
    assert _leaks(build_dir) == []


def test_a_build_that_crashes_quoting_its_source_is_reported_without_the_secret(tmp_path: Path) -> None:
    server = (
        "import sys\n"
        "from bqml_text_embeddings.build import worker\n"
        "def build_one(request):\n"
        "    raise RuntimeError('a library failed on ' + request['sources']['nnlm'])\n"
        "worker.build_one = build_one\n"
        "worker.main(sys.argv[1:])\n"
    )
    with pytest.raises(BuildError) as failure:
        ensure_all_built({"nnlm": {"nnlm": _mirror()}}, tmp_path / "build", worker=(sys.executable, "-c", server))
    assert str(failure.value) == (
        "building nnlm crashed (exit 1): RuntimeError: a library failed on "
        "https://REDACTED@models.example.com/nnlm-en-dim50/2?X-Goog-Signature=REDACTED&page=1"
    )


def test_a_server_that_execs_each_build_passes_the_request_on_stdin_not_in_its_arguments(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With a thread running, the server execs a fresh interpreter per build; its arguments are public (`ps`)."""
    monkeypatch.setenv("TFHUB_CACHE_DIR", str(tmp_path / "hub"))
    argv_log = tmp_path / "argv"
    server = (
        "import os, sys, threading, time\n"
        "threading.Thread(target=time.sleep, args=(600,), daemon=True).start()\n"
        "real = os.execv\n"
        "def execv(path, args):\n"
        f"    open({str(argv_log)!r}, 'a').write(repr(args) + '\\n')\n"
        "    real(path, args)\n"
        "os.execv = execv\n"
        "from bqml_text_embeddings.build import worker\n"
        "worker.main(sys.argv[1:])\n"
    )
    with pytest.raises(BuildError, match=r"^source nnlm: cannot load https://REDACTED@127\.0\.0\.1:9/"):
        ensure_all_built({"nnlm": {"nnlm": _mirror("127.0.0.1:9")}}, tmp_path / "build", worker=(sys.executable, "-c", server))
    recorded = argv_log.read_text()
    assert "'--one']" in recorded and "nnlm" not in recorded
    assert not any(secret in recorded for secret in SECRETS)


def test_the_program_reports_a_bad_mirror_without_its_secret(
    base_config: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    from tests.pulumi_harness import run_program

    monkeypatch.setenv("TFHUB_CACHE_DIR", str(tmp_path / "hub"))
    sources = {**base_config["modelSources"], "nnlm": _mirror("127.0.0.1:9")}
    with pytest.raises(pulumi.RunError) as failure:
        run_program({**base_config, "buildDir": str(tmp_path / "build"), "modelSources": sources})
    assert "source nnlm: cannot load https://REDACTED@127.0.0.1:9/" in str(failure.value)
    out, err = capfd.readouterr()
    assert not any(secret in text for secret in SECRETS for text in (str(failure.value), out, err))
    assert _leaks(tmp_path / "build") == []


def test_the_cli_lists_a_mirror_without_its_secret(tmp_path: Path) -> None:
    from tests.conftest import run_cli

    result = run_cli("list", "--build-dir", str(tmp_path), "--source", f"nnlm={_mirror()}")
    assert result.returncode == 0, result.stderr
    (nnlm,) = [line for line in result.stdout.splitlines() if line.startswith("nnlm ")]
    assert nnlm.endswith("nnlm=https://REDACTED@models.example.com/nnlm-en-dim50/2?X-Goog-Signature=REDACTED&page=1")
    assert not any(secret in result.stdout + result.stderr for secret in SECRETS)
