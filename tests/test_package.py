"""The package as users get it: a wheel with its SQL and op registries, importable without TensorFlow;
and the old import paths a stack's state still pickles."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "bqml_text_embeddings"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(PACKAGE, source / PACKAGE.name, ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation", "-q", "-w", str(out)],
        check=True, capture_output=True, text=True,
    )
    (built,) = out.glob("bqml_text_embeddings-*.whl")
    return built


def test_the_wheel_holds_every_module_template_and_op_registry(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for path in PACKAGE.rglob("*"):
        if path.suffix in (".py", ".sql", ".json") and "__pycache__" not in path.parts:
            assert path.relative_to(ROOT).as_posix() in names, path
    metadata = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("METADATA"))).decode()
    assert "Requires-Dist: pulumi-gcp" in metadata and "Requires-Python: <3.12,>=3.11" in metadata
    assert "tensorflow" not in "".join(line for line in metadata.splitlines() if "extra ==" not in line and line.startswith("Requires-Dist"))


def test_the_installed_package_renders_sql_and_imports_without_tensorflow(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)], check=True)
    probe = (
        "import sys\n"
        "sys.modules['tensorflow'] = None  # any import of TensorFlow now fails\n"
        "import bqml_text_embeddings\n"
        "from bqml_text_embeddings.bigquery import sql\n"
        f"assert bqml_text_embeddings.__file__.startswith({str(target)!r}), bqml_text_embeddings.__file__\n"
        "print(sql.render('drop_table', table='p-1.d.t').strip())\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env={"PYTHONPATH": str(target)}, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "DROP TABLE IF EXISTS `p-1.d.t`;"


@pytest.mark.parametrize(
    ("old", "name"),
    [
        ("infra.bigquery.statement", "BigQueryStatementProvider"),
        ("infra.bigquery.starter", "RefreshStarterProvider"),
        ("infra.vertex.resources", "VertexModelProvider"),
        ("infra.vertex.resources", "VertexDeploymentProvider"),
        ("infra.bigquery.jobs", "make_client"),
    ],
)
def test_a_provider_pickled_under_its_old_path_unpickles(old: str, name: str) -> None:
    """State written before the package holds `infra.…` paths; `pulumi destroy` unpickles them."""
    pickled = ("c" + old + "\n" + name + "\n.").encode()  # protocol 0: a global by module path and name
    probe = f"import pickle; found = pickle.loads({pickled!r}); print(found.__module__)"
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == old.replace("infra", "bqml_text_embeddings", 1)
