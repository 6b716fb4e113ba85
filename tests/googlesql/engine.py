"""Run GoogleSQL on ZetaSQL's reference evaluator: tables in, rows out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import grpc

from tests.googlesql import protos, values
from tests.googlesql.server import Server

# Hidden key column for UPDATE and DELETE: the evaluator reports an updated or deleted row
# only by its old primary key, and the harness's tables have none. A pseudo-column stays out
# of SELECT * and cannot be written. Not for INSERT: new rows would all get a NULL key, which
# the evaluator refuses as a duplicate.
ROW_ID = "$row_id"
RPC_TIMEOUT = 120.0
# In development in this ZetaSQL, generally available in BigQuery: `ts + INTERVAL 1 DAY`.
EXTRA_FEATURES = ("FEATURE_INTERVAL_TYPE",)
STATEMENT_KINDS = ("RESOLVED_QUERY_STMT", "RESOLVED_INSERT_STMT", "RESOLVED_UPDATE_STMT", "RESOLVED_DELETE_STMT", "RESOLVED_MERGE_STMT")


@dataclass
class Table:
    """Columns as (name, BigQuery type) pairs; rows as dicts by column name (a missing key is NULL)."""

    columns: list[tuple[str, str]]
    rows: list[dict[str, Any]] = field(default_factory=list)

    def column(self, name: str) -> list[Any]:
        return [row.get(name) for row in self.rows]


@dataclass(frozen=True)
class Param:
    """A query parameter with an explicit type, for NULLs, empty arrays and non-default types."""

    value: Any
    type: str


class GoogleSQLError(Exception):
    """ZetaSQL refused or failed the statement; `message` is ZetaSQL's own."""

    def __init__(self, message: str, sql: str, code: str = "") -> None:
        super().__init__(f"{message}\n--- in ({code}) ---\n{sql}")
        self.message, self.sql, self.code = message, sql, code


class EngineUnavailable(RuntimeError):
    pass


def _rpc(method: Any, request: Any, sql: str) -> Any:
    try:
        return method(request, timeout=RPC_TIMEOUT)
    except grpc.RpcError as error:
        code = error.code()
        if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.CANCELLED):
            raise EngineUnavailable(f"ZetaSQL's local service did not answer ({code.name}): {error.details()}") from None
        raise GoogleSQLError(error.details() or code.name, sql, code.name) from None


def _bigquery_names(names: list[str]) -> list[str]:
    # ZetaSQL leaves an unaliased expression's column unnamed; BigQuery names them `f0_`, `f1_`, ...
    anonymous = iter(range(len(names)))
    return [name or f"f{next(anonymous)}_" for name in names]


class Engine:
    """GoogleSQL over one ZetaSQL local-service process. Create with `Engine.start()`; close it."""

    def __init__(self, server: Server) -> None:
        self._server = server
        self._pb = protos.load()
        self._stub = self._pb.grpc.ZetaSqlLocalServiceStub(server.channel)
        self.language = self._language_options()

    @classmethod
    def start(cls) -> Engine:
        protos.load()  # compile before the server starts: a missing install fails with the clearer message
        server = Server()
        try:
            return cls(server)
        except BaseException:
            server.close()
            raise

    def close(self) -> None:
        self._server.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- options -------------------------------------------------------------------------------

    def _language_options(self) -> Any:
        pb = self._pb
        # Every released feature (QUALIFY, dashes in table names, named arguments, ...): BigQuery
        # runs close to the newest GoogleSQL, and a feature BigQuery lacks only widens what passes.
        language = _rpc(self._stub.GetLanguageOptions, pb.service.LanguageOptionsRequest(maximum_features=True), "")
        language.enabled_language_features.extend(pb.public_options.LanguageFeature.Value(feature) for feature in EXTRA_FEATURES)
        # EXTERNAL: BigQuery's product mode (FLOAT64 not DOUBLE in messages and casts, no INT32/UINT64/PROTO types).
        language.product_mode = pb.public_options.PRODUCT_EXTERNAL
        language.name_resolution_mode = pb.public_options.NAME_RESOLUTION_DEFAULT
        del language.supported_statement_kinds[:]
        language.supported_statement_kinds.extend(pb.node_kind.ResolvedNodeKind.Value(kind) for kind in STATEMENT_KINDS)
        return language

    def _analyzer_options(self, params: Mapping[str, Any]) -> Any:
        pb = self._pb
        options = pb.options.AnalyzerOptionsProto(
            language_options=self.language,
            # BigQuery's default zone for TIMESTAMP literals, DATE(ts) and the like; ZetaSQL's is Los Angeles.
            default_timezone="UTC",
            error_message_mode=pb.public_options.ERROR_MESSAGE_MULTI_LINE_WITH_CARET,
            parameter_mode=pb.public_options.PARAMETER_NAMED,
        )
        for name, type_proto in params.items():
            options.query_parameters.add(name=name, type=type_proto)
        return options

    # --- catalog -------------------------------------------------------------------------------

    def _catalog(self, tables: Mapping[str, Table], keyed: bool) -> tuple[Any, dict[str, Any]]:
        """The catalog and the table contents. A table is named by its whole path: ZetaSQL takes
        a backticked `proj.dataset.table` as one identifier, not as a path as BigQuery does."""
        pb = self._pb
        catalog = pb.catalog.SimpleCatalogProto(
            builtin_function_options=pb.options.ZetaSQLBuiltinFunctionOptionsProto(language_options=self.language)
        )
        contents: dict[str, Any] = {}
        row_id_type = values.parse_type("INT64")
        for name, table in tables.items():
            types = _column_types(name, table)
            proto = catalog.table.add(name=name)
            for column, type_proto in types.items():
                proto.column.add(name=column, type=type_proto)
            if keyed:
                proto.column.add(name=ROW_ID, type=row_id_type, is_pseudo_column=True, is_writable_column=False)
                proto.primary_key_column_index.append(len(types))
            data = pb.service.TableData()
            for index, row in enumerate(table.rows):
                unknown = set(row) - set(types)
                if unknown:
                    raise ValueError(f"{name} row {index}: no column {sorted(unknown)} in {list(types)}")
                cells = data.row.add().cell
                cells.extend(values.to_value(row.get(c), t, f"{name} row {index} {c}") for c, t in types.items())
                if keyed:
                    cells.append(values.to_value(index, row_id_type))
            contents[name] = pb.service.TableContent(table_data=data)
        return catalog, contents

    def _params(self, params: Mapping[str, Any] | None) -> tuple[dict[str, Any], list[Any]]:
        types: dict[str, Any] = {}
        protos_: list[Any] = []
        for name, raw in (params or {}).items():
            value, type_proto = (raw.value, values.parse_type(raw.type)) if isinstance(raw, Param) else (raw, values.infer_type(raw))
            types[name] = type_proto
            protos_.append(self._pb.service.Parameter(name=name, value=values.to_value(value, type_proto, f"@{name}")))
        return types, protos_

    # --- statements ----------------------------------------------------------------------------

    def parse(self, sql: str, script: bool = True) -> Any:
        """The parse tree of a script (DECLARE, IF, several statements) or of one statement; GoogleSQLError unless it parses."""
        return self._parse(sql, script)

    def _parse(self, sql: str, script: bool) -> Any:
        request = self._pb.service.ParseRequest(sql_statement=sql, options=self.language, allow_script=script)
        return _rpc(self._stub.Parse, request, sql)

    def query(self, sql: str, tables: Mapping[str, Table], params: Mapping[str, Any] | None = None) -> Table:
        """Evaluate one query over `tables` (keyed by their full BigQuery path); the result with its columns."""
        param_types, param_values = self._params(params)
        catalog, contents = self._catalog(tables, keyed=False)
        request = self._pb.service.EvaluateQueryRequest(
            sql=sql, options=self._analyzer_options(param_types), simple_catalog=catalog, table_content=contents, params=param_values
        )
        response = _rpc(self._stub.EvaluateQuery, request, sql)
        columns = list(response.prepared.columns)
        names = _bigquery_names([column.name for column in columns])
        lowered = [name.lower() for name in names]
        duplicates = sorted({name for name in lowered if lowered.count(name) > 1})
        if duplicates:
            # BigQuery refuses these too (rows as dicts could not hold them anyway); its words.
            raise GoogleSQLError(
                f"Duplicate column names in the result are not supported. Found duplicate(s): {', '.join(duplicates)}", sql, "HARNESS"
            )
        rows = [
            {name: values.from_value(cell, column.type) for name, column, cell in zip(names, columns, row.cell, strict=True)}
            for row in response.content.table_data.row
        ]
        return Table(columns=[(name, values.type_name(column.type)) for name, column in zip(names, columns, strict=True)], rows=rows)

    def modify(self, sql: str, tables: Mapping[str, Table], params: Mapping[str, Any] | None = None) -> Table:
        """Evaluate one INSERT, UPDATE or DELETE; the target table's whole content after it.

        Rows keep their order; inserted rows come last. `tables` is not changed.
        """
        return self.dml(sql, tables, params)[0]

    def dml(self, sql: str, tables: Mapping[str, Table], params: Mapping[str, Any] | None = None) -> tuple[Table, int]:
        """`modify`, and the rows the statement inserted, deleted or matched (BigQuery's @@row_count:
        an UPDATE counts every row its WHERE matched, changed or not)."""
        statement = self._parse(sql, script=False).parsed_statement.WhichOneof("node")
        keyed = statement != "ast_insert_statement_node"
        param_types, param_values = self._params(params)
        catalog, contents = self._catalog(tables, keyed=keyed)
        request = self._pb.service.EvaluateModifyRequest(
            sql=sql, options=self._analyzer_options(param_types), simple_catalog=catalog, table_content=contents, params=param_values
        )
        response = _rpc(self._stub.EvaluateModify, request, sql)
        name = response.table_name
        target = tables[name]
        types = _column_types(name, target)

        def decode(cells: Any) -> dict[str, Any]:
            # Cells past the table's columns are the row-id pseudo-column's.
            return {c: values.from_value(cell, t) for (c, t), cell in zip(types.items(), cells[: len(types)], strict=True)}

        # Untouched rows through the codec too, so all rows have the same Python types (aware TIMESTAMPs...).
        kept = {index: decode(row.cell) for index, row in enumerate(contents[name].table_data.row)}
        inserted: list[dict[str, Any]] = []
        operation = self._pb.service.EvaluateModifyResponse.Row
        for change in response.content:
            if change.operation == operation.INSERT:
                inserted.append(decode(change.cell))
            elif change.operation == operation.UPDATE:
                kept[change.old_primary_key[0].int64_value] = decode(change.cell)
            elif change.operation == operation.DELETE:
                del kept[change.old_primary_key[0].int64_value]
            else:
                raise GoogleSQLError(f"unexpected row operation {change.operation} in the evaluator's answer", sql, "HARNESS")
        return Table(columns=list(target.columns), rows=[*kept.values(), *inserted]), len(response.content)


def _column_types(table_name: str, table: Table) -> dict[str, Any]:
    types: dict[str, Any] = {}
    for column, type_text in table.columns:
        if column.lower() in (c.lower() for c in types):
            raise ValueError(f"{table_name}: column {column} twice")
        try:
            types[column] = values.parse_type(type_text)
        except ValueError as error:
            raise ValueError(f"{table_name}.{column}: {error}") from None
    return types
