"""bqml_text_embeddings/ keeps its layers: steps use engines and settings, engines never reach up to a step."""

from __future__ import annotations

import ast
from pathlib import Path

INFRA = Path(__file__).resolve().parent.parent / "bqml_text_embeddings"
ENGINES = ("bqml_text_embeddings.bigquery", "bqml_text_embeddings.vertex")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return {name for name in names if name.startswith("bqml_text_embeddings")}


def _module(path: Path) -> str:
    return ".".join(path.relative_to(INFRA.parent).with_suffix("").parts)


def test_only_the_program_imports_a_step() -> None:
    offenders = {
        _module(path): sorted(name for name in _imports(path) if name.startswith("bqml_text_embeddings.steps"))
        for path in INFRA.rglob("*.py")
        if path.parent.name != "steps" and "build" not in path.parts
    }
    assert {module: names for module, names in offenders.items() if names} == {}


def test_engines_import_only_settings_retry_and_their_own_package() -> None:
    allowed = ("stack.config", "bqml_text_embeddings.retry", "bqml_text_embeddings.locations", "bqml_text_embeddings.naming")
    offenders = {}
    for engine in ENGINES:
        folder = INFRA / engine.split(".")[1]
        for path in folder.glob("*.py"):
            bad = sorted(
                name for name in _imports(path) if not name.startswith((engine, *allowed)) and name not in ("bqml_text_embeddings",)
            )
            if bad:
                offenders[_module(path)] = bad
    assert offenders == {}


def test_every_module_sits_in_a_room_of_at_most_a_dozen() -> None:
    for folder in [INFRA, *(p for p in INFRA.iterdir() if p.is_dir() and p.name not in ("__pycache__", "build", "sql"))]:
        modules = [p for p in folder.glob("*.py") if p.name != "__init__.py"]
        assert len(modules) <= 12, f"{folder} holds {len(modules)} modules: group them"
