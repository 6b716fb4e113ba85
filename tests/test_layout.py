"""bqml_text_embeddings/ keeps its layers: components use engines and rules, engines never reach up, the package never reaches the stack."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "bqml_text_embeddings"
ROOT = "bqml_text_embeddings"
# Leaf modules every layer may use: checks, names, locations, retries.
LEAVES = tuple(f"{ROOT}.{name}" for name in ("validate", "schedule", "locations", "naming", "retry"))
# Each layer, and what it may import besides the leaves and itself.
LAYERS = {
    "config": (f"{ROOT}.build.catalog", f"{ROOT}.build.runtimes"),
    "bigquery": (),
    "vertex": (),
    "build": (),
    "models": (f"{ROOT}.args", f"{ROOT}.config", f"{ROOT}.bigquery", f"{ROOT}.vertex", f"{ROOT}.build"),
    # A corpus takes its models as references: it knows no model component, nor the tutorial.
    "corpus": (f"{ROOT}.args", f"{ROOT}.config", f"{ROOT}.bigquery"),
    "tutorial": (f"{ROOT}.args", f"{ROOT}.config", f"{ROOT}.bigquery", f"{ROOT}.vertex", f"{ROOT}.build", f"{ROOT}.models"),
}


def _imports(path: Path) -> set[str]:
    """The modules a file imports: `from a.b import c` is a.b.c when c is a module, else a.b."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                member = f"{node.module}.{alias.name}"
                names.add(member if _is_module(member) else node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def _module(path: Path) -> str:
    return ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)


def _is_module(name: str) -> bool:
    """`from bqml_text_embeddings.bigquery import sql` names a module; `… .embedding import Embedder` a member of one."""
    return (PACKAGE.parent / Path(*name.split("."))).with_suffix(".py").exists() or (PACKAGE.parent / Path(*name.split("."))).is_dir()


def test_the_package_never_imports_the_stack() -> None:
    """The wheel ships bqml_text_embeddings alone: a component that reached into stack/ would fail when installed."""
    offenders = {
        _module(path): sorted(name for name in _imports(path) if name == "stack" or name.startswith("stack."))
        for path in PACKAGE.rglob("*.py")
    }
    assert {module: names for module, names in offenders.items() if names} == {}


def test_each_layer_imports_only_what_lies_below_it() -> None:
    offenders = {}
    for layer, allowed in LAYERS.items():
        own = f"{ROOT}.{layer}"
        for path in (PACKAGE / layer).rglob("*.py"):
            bad = sorted(
                name
                for name in _imports(path)
                if name.startswith(f"{ROOT}.") and not name.startswith((own, *LEAVES, *allowed))
            )
            if bad:
                offenders[_module(path)] = bad
    assert offenders == {}


def test_the_layer_rule_bites() -> None:
    """A corpus that imported a model component, or an engine that imported the config, would be caught."""
    assert f"{ROOT}.models.tfhub".startswith(LAYERS["tutorial"]) and not f"{ROOT}.models.tfhub".startswith(LAYERS["corpus"])
    assert not f"{ROOT}.config.rules".startswith(LAYERS["bigquery"] or ("\0",))
    assert _is_module(f"{ROOT}.bigquery.sql") and not _is_module(f"{ROOT}.bigquery.embedding.Embedder")


def test_every_layer_is_listed() -> None:
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name not in ("__pycache__", "sql")}
    assert folders == set(LAYERS)


def test_every_module_sits_in_a_room_of_at_most_a_dozen() -> None:
    for folder in [PACKAGE, *(p for p in PACKAGE.iterdir() if p.is_dir() and p.name not in ("__pycache__", "build", "sql"))]:
        modules = [p for p in folder.glob("*.py") if p.name != "__init__.py"]
        assert len(modules) <= 12, f"{folder} holds {len(modules)} modules: group them"
