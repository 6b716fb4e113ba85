"""Import paths of stacks made before `bqml_text_embeddings` was a package.

Their state holds the dynamic providers pickled by module path
(`infra.bigquery.statement.BigQueryStatementProvider`, `infra.vertex.resources…`),
and `pulumi destroy`, or an update that deletes one of them, unpickles the old path.
Every `infra.X` is `bqml_text_embeddings.X`: this package only maps the names.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from types import ModuleType

_OLD, _NEW = "infra", "bqml_text_embeddings"


class _Renamed(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname: str, path: object = None, target: object = None) -> importlib.machinery.ModuleSpec | None:
        if not fullname.startswith(_OLD + "."):
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return importlib.import_module(_NEW + spec.name[len(_OLD) :])  # the module itself, under its old name too

    def exec_module(self, module: ModuleType) -> None:
        return None


sys.meta_path.insert(0, _Renamed())
