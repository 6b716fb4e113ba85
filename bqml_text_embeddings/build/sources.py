"""Source handles: validation and the fingerprint that goes into the cache key.

A handle is a TF Hub URL, a `gs://` path or a local directory holding a
TF-Hub-format SavedModel. URLs and `gs://` paths are taken as immutable
(TF Hub handles are versioned; point at a new path to rebuild). A local
directory may change in place, so its fingerprint covers its contents.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path

from bqml_text_embeddings.build.catalog import ModelSpec
from bqml_text_embeddings.build.errors import BuildError

_REMOTE_SCHEMES = ("https://", "http://", "gs://")
# Data shards can be hundreds of MB; their CRC32C checksums are recorded in
# variables.index, so hashing the index (plus the shard sizes) covers them
# without reading them on every preview.
_HASH_BY_SIZE_ONLY_PREFIX = "variables/variables.data-"


def is_remote(handle: str) -> bool:
    return handle.startswith(_REMOTE_SCHEMES)


def resolve(spec: ModelSpec, overrides: Mapping[str, str] | None) -> dict[str, str]:
    """The handle for each of `spec`'s sources: defaults, then overrides.

    Local paths come back absolute. Raises BuildError for an override that
    names no source of this model, or a local path that is not a SavedModel.
    """
    overrides = dict(overrides or {})
    keys = spec.source_keys()
    handles: dict[str, str] = {}
    for role in spec.sources:
        handle = overrides.pop(role.key, None) or role.default
        handles[role.key] = handle if is_remote(handle) else str(_local_saved_model(role.key, handle))
    if overrides:
        unknown = ", ".join(sorted(overrides))
        raise BuildError(
            f"model {spec.name!r} has no source {unknown}: its sources are {', '.join(keys)}"
        )
    return handles


def _local_saved_model(key: str, handle: str) -> Path:
    path = Path(handle).expanduser()
    if handle.startswith("file://"):
        path = Path(handle[len("file://"):])
    if not path.exists():
        raise BuildError(
            f"source {key}: {handle} does not exist; give a TF Hub URL, a gs:// path "
            "or a local directory holding a SavedModel"
        )
    if not path.is_dir() or not any((path / f).is_file() for f in ("saved_model.pb", "saved_model.pbtxt")):
        raise BuildError(f"source {key}: {handle} is not a SavedModel directory (no saved_model.pb in it)")
    return path.resolve()


def fingerprint(handle: str) -> str:
    """What identifies a source's bytes, for the cache key."""
    if is_remote(handle):
        return handle
    root = Path(handle)
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        size = path.stat().st_size
        digest.update(f"{rel}\0{size}\0".encode())
        if not rel.startswith(_HASH_BY_SIZE_ONLY_PREFIX):
            digest.update(file_sha256(path).encode())
    return f"sha256:{digest.hexdigest()}"


def local_size(handle: str) -> int:
    """Bytes under a local source directory."""
    return sum(path.stat().st_size for path in Path(handle).rglob("*") if path.is_file())


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()

