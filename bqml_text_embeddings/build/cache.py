"""The content-addressed build cache.

A build lives in `<build dir>/<model>-<key>/`, holding `model/` (the
SavedModel) and `manifest.json`. The key hashes everything that shapes the
bytes: the model, its sources' fingerprints, the versions of the libraries
that write the SavedModel, and this package's build code. A directory exists
under its final name only once it is complete and checked (it is renamed into
place), so anything else in the build dir never counts as built.

Nothing here imports TensorFlow: a warm cache is a few stats and a JSON read.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from bqml_text_embeddings.build import runtimes
from bqml_text_embeddings.build.catalog import ModelSpec
from bqml_text_embeddings.build.sources import file_sha256, fingerprint

MANIFEST_FORMAT = 1
MANIFEST_NAME = "manifest.json"
MODEL_DIR = "model"
TMP_PREFIX = ".tmp-"

# Distributions whose versions change what a build writes.
SHAPING_DISTRIBUTIONS = (
    "bigquery-ml-utils",
    "tensorflow",
    "tensorflow-text",
    "tensorflow-hub",
    "keras",
    "numpy",
    "protobuf",
)
# Our own code that writes or judges the artifact, and the op registries it is judged by.
_BUILD_CODE = ("builder.py", "check.py", "cache.py", "runtimes.py")


@cache
def library_versions() -> dict[str, str]:
    """Installed versions (a few ms each to look up, so once per process: the warm path asks per model)."""
    versions = {}
    for name in SHAPING_DISTRIBUTIONS:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    return versions


@cache  # the package's own files do not change within a process; a program looks a model up more than once
def _build_code_digest() -> str:
    here = Path(__file__).parent
    digest = hashlib.sha256()
    for name in _BUILD_CODE:
        digest.update(name.encode() + b"\0" + (here / name).read_bytes())
    for path in runtimes.registry_files():
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def cache_key(spec: ModelSpec, handles: dict[str, str]) -> str:
    material = {
        "format": MANIFEST_FORMAT,
        "model": spec.name,
        "dims": spec.dims,
        "target": spec.target.value,
        "sources": {key: fingerprint(handle) for key, handle in sorted(handles.items())},
        "versions": dict(library_versions()),
        "code": _build_code_digest(),
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


def entry_dir(build_dir: Path, spec: ModelSpec, key: str) -> Path:
    return Path(build_dir) / f"{spec.name}-{key[:20]}"


@dataclass(frozen=True)
class BuiltModel:
    """A complete, checked build: the SavedModel directory and its manifest."""

    path: Path
    manifest: dict[str, Any]

    @property
    def model(self) -> str:
        return self.manifest["model"]

    @property
    def output_name(self) -> str:
        (name,) = self.manifest["signature"]["outputs"]
        return name

    @property
    def dims(self) -> int:
        """The length of every vector it returns (the build probed it)."""
        return self.manifest["dims"]

    @property
    def digest(self) -> str:
        """sha256 over every file's path and bytes: changes iff the artifact does."""
        return self.manifest["digest"]

    @property
    def files(self) -> list[dict[str, Any]]:
        return self.manifest["files"]


def describe_files(model_dir: Path) -> tuple[list[dict[str, Any]], int, str]:
    """Each file's path, size and sha256; the total size; the artifact digest."""
    files = []
    for path in sorted(p for p in model_dir.rglob("*") if p.is_file()):
        files.append(
            {"path": path.relative_to(model_dir).as_posix(), "size": path.stat().st_size, "sha256": file_sha256(path)}
        )
    digest = hashlib.sha256(
        "".join(f"{f['path']}\0{f['sha256']}\n" for f in files).encode()
    ).hexdigest()
    return files, sum(f["size"] for f in files), digest


def load(entry: Path) -> BuiltModel | None:
    """The build in `entry`, or None if there is no complete one."""
    try:
        manifest = json.loads((entry / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if manifest.get("format") != MANIFEST_FORMAT:
        return None
    model_dir = entry / MODEL_DIR
    for item in manifest.get("files", []):
        try:
            if (model_dir / item["path"]).stat().st_size != item["size"]:
                return None
        except OSError:
            return None
    return BuiltModel(model_dir, manifest)


def write_manifest(entry: Path, manifest: dict[str, Any]) -> None:
    (entry / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def new_tmp_dir(build_dir: Path, entry: Path) -> Path:
    build_dir.mkdir(parents=True, exist_ok=True)
    tmp = build_dir / f"{TMP_PREFIX}{entry.name}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    return tmp


def remove_stale_tmp_dirs(build_dir: Path) -> None:
    """Deletes what interrupted builds left: tmp dirs whose process is gone."""
    if not build_dir.is_dir():
        return
    for tmp in build_dir.glob(f"{TMP_PREFIX}*"):
        pid = tmp.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(tmp, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def publish(tmp: Path, entry: Path) -> None:
    """Renames a finished build into place; a concurrent twin may have won."""
    try:
        os.rename(tmp, entry)
    except OSError:
        if load(entry) is not None:
            shutil.rmtree(tmp, ignore_errors=True)
            return
        shutil.rmtree(entry)  # an incomplete or tampered-with entry: replace it
        os.rename(tmp, entry)
