"""The build API: the built, checked model for X with these sources; cheap when cached."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path

from bqml_text_embeddings.build import cache, catalog, sources
from bqml_text_embeddings.build.cache import BuiltModel
from bqml_text_embeddings.build.catalog import Target
from bqml_text_embeddings.build.errors import BuildError
from bqml_text_embeddings.build.redact import redact

DEFAULT_BUILD_DIR = Path(".build")


def ensure_built(
    model: str,
    source_overrides: Mapping[str, str] | None = None,
    build_dir: str | Path = DEFAULT_BUILD_DIR,
) -> BuiltModel:
    """The cached build of `model`, building (and checking) it first if needed.

    A warm cache imports no TensorFlow. Raises BuildError, leaving nothing in
    the cache, when a source is bad or a BigQuery-target model fails its check.
    """
    spec = catalog.get(model)
    handles = sources.resolve(spec, source_overrides)
    build_dir = Path(build_dir)
    key = cache.cache_key(spec, handles)
    entry = cache.entry_dir(build_dir, spec, key)
    built = cache.load(entry)
    if built is not None:
        return built
    cache.remove_stale_tmp_dirs(build_dir)
    tmp = cache.new_tmp_dir(build_dir, entry)
    try:
        manifest = _build_and_check(spec, handles, key, tmp)
        cache.write_manifest(tmp, manifest)
        cache.publish(tmp, entry)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    built = cache.load(entry)
    assert built is not None, f"{entry} was published but does not load"
    return built


def _build_and_check(spec: catalog.ModelSpec, handles: dict[str, str], key: str, tmp: Path) -> dict:
    from bqml_text_embeddings.build import builder, check, runtimes

    core = check.core_ops(tmp.parent)  # first: before the build loads tensorflow_text
    model_dir = tmp / cache.MODEL_DIR
    saved = builder.build(spec, handles, model_dir)
    files, total_size, digest = cache.describe_files(model_dir)
    inspection = check.inspect_proto(saved)
    verdicts = check.verdicts(inspection, spec.dims, total_size, core)
    own = verdicts[spec.target.value]
    if spec.target is Target.BIGQUERY and not own["ok"]:
        raise BuildError(
            f"{spec.name} cannot be imported into BigQuery: " + "; ".join(own["reasons"])
        )
    if not own["ok"]:
        raise BuildError(f"{spec.name} cannot be served by {spec.target.value}: " + "; ".join(own["reasons"]))
    return {
        "format": cache.MANIFEST_FORMAT,
        "model": spec.name,
        "target": spec.target.value,
        "dims": spec.dims,
        "cache_key": key,
        # Shown, not used: the key above hashed the full handles; a mirror's credentials stay out of `.build/`.
        "sources": {key: redact(handle) for key, handle in handles.items()},
        "versions": dict(cache.library_versions()),
        "tensorflow_version": builder.tensorflow_version(),
        "signature": {"name": check.SIGNATURE, **_plain(inspection.signature)},
        "graph_producer": inspection.producer,
        "non_core_ops": sorted(inspection.ops - core),
        "files": files,
        "total_size": total_size,
        "digest": digest,
        "check": verdicts,
        # Whether each Vertex AI serving runtime registers every op and attribute the graphs need:
        # judged here, so the deploy (which knows the chosen runtime) needs no TensorFlow.
        "runtimes": runtimes.verdicts(inspection.requirements) if spec.target is Target.VERTEX else {},
    }


def _plain(signature: dict | None) -> dict:
    assert signature is not None  # a missing signature fails the check above
    return {
        side: {name: {"dtype": spec["dtype"], "shape": spec["shape"]} for name, spec in tensors.items()}
        for side, tensors in signature.items()
    }
