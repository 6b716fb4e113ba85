"""One google.rpc.Status for a process that holds both Pulumi's provider server and Google's clients.

Pulumi's provider server imports pulumi/runtime/proto/status_pb2.py, compiled from a file it names
`google/protobuf/status.proto`; googleapis-common-protos (under google-api-core) compiles
`google/rpc/status.proto`. Both define google.rpc.Status, and protobuf's default pool refuses the
second file to define it ("duplicate symbol 'google.rpc.Status'"), whichever comes second. A
provider process never loads Google's clients (tests/test_components.py constructs every component
through the provider, and a component that imported one would fail there), but the test process
holds both: Pulumi's module is made Google's, which `same_status_message()` proves is the same
message, field for field.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path

from google.protobuf import descriptor_pb2

PULUMI_MODULE = "pulumi.runtime.proto.status_pb2"


def _pulumi_file() -> descriptor_pb2.FileDescriptorProto:
    """Pulumi's file as it would be added to the pool, read from its module's source without adding it."""
    spec = importlib.util.find_spec("pulumi")
    assert spec is not None and spec.origin is not None
    source = Path(spec.origin).parent / "runtime" / "proto" / "status_pb2.py"
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "AddSerializedFile":
            return descriptor_pb2.FileDescriptorProto.FromString(ast.literal_eval(node.args[0]))
    raise AssertionError(f"{source}: no AddSerializedFile")


def _fields(message: descriptor_pb2.DescriptorProto) -> list[tuple[str, int, int, int, str]]:
    return [(f.name, f.number, f.type, f.label, f.type_name) for f in message.field]


def same_status_message() -> bool:
    from google.rpc import status_pb2

    google_file = descriptor_pb2.FileDescriptorProto()
    status_pb2.DESCRIPTOR.CopyToProto(google_file)
    (ours,) = [m for m in _pulumi_file().message_type if m.name == "Status"]
    (theirs,) = [m for m in google_file.message_type if m.name == "Status"]
    return _pulumi_file().package == google_file.package == "google.rpc" and _fields(ours) == _fields(theirs)


def install() -> None:
    """Before anything imports Pulumi's provider server: its status module is Google's."""
    from google.rpc import status_pb2

    assert same_status_message(), "Pulumi's google.rpc.Status is no longer Google's: the alias would lie"
    sys.modules.setdefault(PULUMI_MODULE, status_pb2)
