"""ZetaSQL's local-service protos, compiled with grpcio-tools into a cache and imported.

The generated code is not committed: it must match the protos of the installed
package and the protobuf runtime of the venv, so the cache key covers both.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import os
import shutil
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[2]
# ZETASQL_HOME points at another unpacked `lib/zetasql` (the npm package's layout).
HOME = Path(os.environ.get("ZETASQL_HOME", ROOT / ".zetasql" / "zetasql"))
CACHE = ROOT / ".zetasql-cache"


class MissingEngine(RuntimeError):
    pass


class Modules(NamedTuple):
    service: ModuleType  # local_service_pb2
    grpc: ModuleType  # local_service_pb2_grpc
    options: ModuleType  # zetasql.proto.options_pb2 (AnalyzerOptionsProto, LanguageOptionsProto)
    public_options: ModuleType  # zetasql.public.options_pb2 (the enums)
    catalog: ModuleType  # zetasql.proto.simple_catalog_pb2
    table: ModuleType  # zetasql.public.simple_table_pb2
    type: ModuleType  # zetasql.public.type_pb2
    value: ModuleType  # zetasql.public.value_pb2
    node_kind: ModuleType  # zetasql.resolved_ast.resolved_node_kind_pb2


def require_home() -> Path:
    if not (HOME / "protos" / "local_service.proto").is_file():
        raise MissingEngine(f"ZetaSQL is not installed in {HOME}: run ./dev setup")
    return HOME


def _key(protos: Path) -> str:
    # The generated code depends on the protobuf runtime and on the compiler's version.
    digest = hashlib.sha256(f"protobuf {metadata.version('protobuf')} grpcio-tools {metadata.version('grpcio-tools')}".encode())
    for path in sorted(protos.rglob("*.proto")):
        digest.update(str(path.relative_to(protos)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _compile(protos: Path, out: Path) -> None:
    try:
        from grpc_tools import protoc
    except ImportError:
        raise MissingEngine("grpcio-tools is not installed: run ./dev setup") from None

    # grpc_tools ships google/protobuf/*.proto (empty, descriptor, timestamp) that the protos import.
    well_known = Path(protoc.__file__).parent / "_proto"
    files = [str(path.relative_to(protos)) for path in sorted(protos.rglob("*.proto"))]
    # A child process, not protoc.main(): in this process the generated modules lacked their imports.
    command = [sys.executable, "-m", "grpc_tools.protoc", f"-I{protos}", f"-I{well_known}", f"--python_out={out}", f"--grpc_python_out={out}", *files]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"grpc_tools.protoc failed on {protos}:\n{result.stderr}")


def generated_dir() -> Path:
    """The cache folder holding the generated modules; compiled on first use."""
    protos = require_home() / "protos"
    target = CACHE / _key(protos)
    if not (target / "local_service_pb2_grpc.py").is_file():
        CACHE.mkdir(parents=True, exist_ok=True)
        # Compile beside the target and rename: a concurrent session sees all or nothing.
        scratch = Path(tempfile.mkdtemp(dir=CACHE, prefix=".tmp-"))
        try:
            _compile(protos, scratch)
            try:
                scratch.rename(target)
            except OSError:
                if not (target / "local_service_pb2_grpc.py").is_file():
                    raise
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    return target


@functools.cache
def load() -> Modules:
    folder = str(generated_dir())
    # The generated modules import each other as top-level `zetasql.*` and `local_service_pb2`.
    if folder not in sys.path:
        sys.path.insert(0, folder)
    mod = importlib.import_module
    return Modules(
        service=mod("local_service_pb2"),
        grpc=mod("local_service_pb2_grpc"),
        options=mod("zetasql.proto.options_pb2"),
        public_options=mod("zetasql.public.options_pb2"),
        catalog=mod("zetasql.proto.simple_catalog_pb2"),
        table=mod("zetasql.public.simple_table_pb2"),
        type=mod("zetasql.public.type_pb2"),
        value=mod("zetasql.public.value_pb2"),
        node_kind=mod("zetasql.resolved_ast.resolved_node_kind_pb2"),
    )
