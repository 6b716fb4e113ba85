"""Writes a SavedModel with bigquery-ml-utils' TextEmbeddingModelGenerator.

The wrapping itself is the library's; this module adds what a reproducible,
diagnosable build needs around it: as the generator loads each source, it
calls it on strings so a bad source is named, and afterwards it rewrites
saved_model.pb in canonical form. TensorFlow orders a SavedModel's function
library by Python hash order, which differs between processes; sorting it
(and writing the proto deterministically) makes two builds of the same inputs
byte-identical, provided each runs in a process that has built nothing before
(object names count up per process): `parallel` gives every build its own.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

from bqml_text_embeddings.build.catalog import ModelSpec
from bqml_text_embeddings.build.errors import BuildError

_PROBE_TEXTS = ("a short test sentence", "")


def quiet_tensorflow() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # Keras warns that a dict-named input got a positional tensor; harmless here.
    warnings.filterwarnings("ignore", message="The structure of `inputs` doesn't match", category=UserWarning)


def build(spec: ModelSpec, handles: dict[str, str], out_dir: Path) -> Any:
    """Writes the SavedModel into `out_dir`; returns its canonical SavedModel proto."""
    quiet_tensorflow()
    from bigquery_ml_utils.model_generator import TextEmbeddingModelGenerator, text_embedding_generator

    probe = _SourceProbe(spec, handles)
    generator = TextEmbeddingModelGenerator(
        **{role.generator_arg: handles[role.key] for role in spec.sources}
    )
    # The generator loads each source through this one function; serving it the
    # module the probe loaded saves loading a source of hundreds of MB twice.
    real_loader = text_embedding_generator._load_hub_model
    text_embedding_generator._load_hub_model = probe.load
    try:
        generator.generate_text_embedding_model(spec.name, str(out_dir))
    except BuildError:
        raise
    except Exception as exc:
        probe.finish()  # a bad source gets its own, clearer error
        raise BuildError(f"building {spec.name} from {_show_handles(handles)} failed: {_first_line(exc)}") from exc
    finally:
        text_embedding_generator._load_hub_model = real_loader
    probe.finish()
    return canonicalize(out_dir)


class _SourceProbe:
    """Loads each source once and calls it on strings as it loads, naming the one that fails.

    Should the generator ever load sources some other way, `finish` loads and
    probes whatever it did not see, so no source goes unchecked.
    """

    def __init__(self, spec: ModelSpec, handles: dict[str, str]) -> None:
        import tensorflow as tf

        self.spec, self.handles = spec, handles
        self.texts = tf.constant(_PROBE_TEXTS)
        self.pending = list(handles)  # keys, in the order the generator loads them
        self.encoded: Any = None

    def load(self, handle: str) -> Any:
        key = next((k for k in self.pending if self.handles[k] == handle), None)
        if key is None:  # not one of ours: load it as the library would
            return _load("source", handle)
        self.pending.remove(key)
        module = _load(key, handle)
        self._probe(key, module)
        return module

    def finish(self) -> None:
        for key in list(self.pending):  # the catalogue's order: a preprocess before its encoder
            if key in self.pending:  # probing an encoder loads its preprocess
                self.load(self.handles[key])

    def _probe(self, key: str, module: Any) -> None:
        handles, texts = self.handles, self.texts
        if key == "bertPreprocess":
            self.encoded = _call(key, handles, lambda: module(texts))
        elif key == "bertEncoder":
            if self.encoded is None:
                self.load(handles["bertPreprocess"])
            outputs = _call(key, handles, lambda: module(self.encoded))
            if not isinstance(outputs, dict) or "pooled_output" not in outputs:
                raise BuildError(
                    f"source bertEncoder: {handles['bertEncoder']} is not a BERT encoder: its outputs have no 'pooled_output'"
                )
            _expect_embedding(key, handles, outputs["pooled_output"], self.spec.dims)
        else:
            _expect_embedding(key, handles, _call(key, handles, lambda: module(texts)), self.spec.dims)


def _load(key: str, handle: str) -> Any:
    import tensorflow_hub as hub

    try:
        return hub.load(handle)
    except Exception as exc:
        raise BuildError(f"source {key}: cannot load {handle}: {_first_line(exc)}") from exc


def _call(key: str, handles: dict[str, str], thunk: Any) -> Any:
    try:
        return thunk()
    except Exception as exc:
        raise BuildError(
            f"source {key}: {handles[key]} is not a text-embedding model: calling it on a batch of strings "
            f"failed ({type(exc).__name__}: {_first_line(exc)})"
        ) from exc


def _expect_embedding(key: str, handles: dict[str, str], value: Any, dims: int) -> None:
    shape = tuple(getattr(value, "shape", ()))
    dtype = getattr(getattr(value, "dtype", None), "is_floating", False)
    if not dtype or shape != (len(_PROBE_TEXTS), dims):
        raise BuildError(
            f"source {key}: {handles[key]} is not a {dims}-dim text-embedding model: for "
            f"{len(_PROBE_TEXTS)} strings it returned {getattr(value, 'dtype', type(value).__name__)} "
            f"of shape {list(shape)}, expected float [{len(_PROBE_TEXTS)}, {dims}]"
        )


def canonicalize(model_dir: Path) -> Any:
    """Sorts the function library, rewrites saved_model.pb deterministically, refreshes fingerprint.pb.

    Returns the canonical SavedModel proto, so that the check need not parse it again.
    """
    from tensorflow.core.protobuf import saved_model_pb2
    from tensorflow.python.saved_model import pywrap_saved_model

    pb = Path(model_dir) / "saved_model.pb"
    saved = saved_model_pb2.SavedModel()
    saved.ParseFromString(pb.read_bytes())
    for graph in saved.meta_graphs:
        library = graph.graph_def.library
        functions = sorted(library.function, key=lambda f: f.signature.name)
        del library.function[:]
        library.function.extend(functions)
        gradients = sorted(library.gradient, key=lambda g: (g.function_name, g.gradient_func))
        del library.gradient[:]
        library.gradient.extend(gradients)
    pb.write_bytes(saved.SerializeToString(deterministic=True))
    fingerprint = Path(model_dir) / "fingerprint.pb"
    if fingerprint.exists():
        fingerprint.write_bytes(pywrap_saved_model.fingerprinting.CreateFingerprintDef(str(model_dir)))
    return saved


def tensorflow_version() -> str:
    import tensorflow as tf

    return tf.__version__


def _show_handles(handles: dict[str, str]) -> str:
    return ", ".join(f"{key}={handle}" for key, handle in handles.items())


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]
