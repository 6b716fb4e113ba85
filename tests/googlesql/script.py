"""BigQuery scripting interpreted around GoogleSQL's reference engine: a procedure run from its own text.

GoogleSQL's parser gives the script's structure, with every node's byte span.
The control flow (DECLARE, SET, IF/ELSEIF/ELSE, LOOP, WHILE, BREAK/LEAVE,
CONTINUE/ITERATE, RETURN, BEGIN … EXCEPTION WHEN ERROR THEN … END, RAISE,
BEGIN TRANSACTION/COMMIT/ROLLBACK) is interpreted here; every statement and
expression inside it is evaluated by ZetaSQL's reference engine on the tables of
a `Database` (tests/googlesql/database.py, which also holds BigQuery's
transaction and clock rules): queries, INSERT/UPDATE/DELETE, and
CREATE [OR REPLACE] TEMP TABLE … AS. Variables, @@row_count and @@error.message
reach the engine as query parameters, where it finds no column of that name
(BigQuery's rule: a column wins over a variable of the same name).
CREATE VECTOR INDEX, which the engine cannot run, is recorded and may be made to
fail; any other statement raises Unsupported, which fails the test.

A running script is a generator of `Step`s, one before each statement it runs,
so tests can interleave scripts statement by statement and stop one anywhere
(a killed job: its open transaction rolls back and no handler runs).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tests.googlesql.database import Aborted, Blocked, Database, Transaction
from tests.googlesql.engine import Engine, GoogleSQLError, Param, Table

_IDENTIFIER = re.compile(rb"`[^`]*`|[A-Za-z_][A-Za-z0-9_]*")
_UNRECOGNIZED = re.compile(r"Unrecognized name: (`[^`]*`|[A-Za-z_][A-Za-z0-9_]*).*?\[at (\d+):(\d+)\]", re.S)
_COERCIBLE = {("INT64", "FLOAT64"), ("INT64", "NUMERIC"), ("INT64", "BIGNUMERIC"), ("NUMERIC", "BIGNUMERIC")}
_SYSTEM = {("row_count",): ("_row_count", "INT64"), ("error", "message"): ("_error_message", "STRING")}
_NOW = "_now"
_UUID = "_uuid"  # GENERATE_UUID(): not in the engine's binary, so the harness draws one per statement
_CLOCKS = ("CURRENT_DATE", "CURRENT_DATETIME", "CURRENT_TIME")  # the engine's own clock: refused, not mixed in
# Rewritten statement texts by (text, catalog columns, variables): the engine is deterministic.
_BOUND: dict[tuple[bytes, tuple, frozenset[str]], tuple[bytes, frozenset[str]]] = {}
_SYSTEM_BOUND: dict[bytes, tuple[bytes, frozenset[str]]] = {}


class ScriptError(Exception):
    """An error the script's EXCEPTION handlers catch (a failed statement, a RAISE, an aborted transaction)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Unsupported(Exception):
    """A statement or construct this interpreter does not run: the test fails rather than guess."""


class _Leave(Exception):
    pass


class _Continue(Exception):
    pass


class _Return(Exception):
    pass


@dataclass
class Variable:
    type: str
    value: Any


@dataclass(frozen=True)
class Step:
    """The statement a script runs next (`blocked`: the table it waits for)."""

    script: Script
    kind: str  # the parse tree's node name without AST/Proto, e.g. UpdateStatement, BeginStatement, IfStatement
    text: str
    in_transaction: bool
    blocked: str | None = None


def unwrap(message: Any) -> Any:
    """The concrete node behind AnyAST…Proto wrappers."""
    while message.DESCRIPTOR.name.startswith("Any"):
        message = getattr(message, message.WhichOneof("node"))
    return message


def kind(message: Any) -> str:
    return unwrap(message).DESCRIPTOR.name.removeprefix("AST").removesuffix("Proto")


def span(message: Any) -> tuple[int, int]:
    """A node's byte range in the text it was parsed from."""
    node = unwrap(message)
    while node.DESCRIPTOR.name != "ASTNodeProto":
        node = unwrap(node.parent)
    return node.parse_location_range.start, node.parse_location_range.end


def nodes(message: Any) -> Iterator[Any]:
    """Every message of a parse tree, depth first."""
    yield message
    for descriptor, value in message.ListFields():
        if descriptor.message_type is None:
            continue
        for item in value if descriptor.label == descriptor.LABEL_REPEATED else (value,):
            yield from nodes(item)


def _names(path: Any) -> list[str]:
    return [identifier.id_string for identifier in unwrap(path).names]


@dataclass
class _Scope:
    variables: dict[str, Variable] = field(default_factory=dict)


class Script:
    """One run of a script or of a procedure (its CREATE PROCEDURE text and CALL arguments)."""

    def __init__(
        self,
        engine: Engine,
        db: Database,
        sql: str,
        args: Sequence[Any] = (),
        extra_tables: Callable[[], Mapping[str, Table]] | None = None,
    ) -> None:
        self.engine, self.db = engine, db
        self._text = sql.encode()
        self._extra = extra_tables or dict
        self.temp: dict[str, Table] = {}
        self.txn: Transaction | None = None
        self.error: str | None = None  # why the script failed; None when it ended normally
        self.done = False
        self._row_count: int | None = None
        self._handling: list[str] = []
        self._scopes: list[_Scope] = [_Scope()]
        self._declared: dict[str, Variable] = {}
        tree = unwrap(engine.parse(sql, script=True).parsed_script)
        statements = list(tree.statement_list_node.statement_list)
        if len(statements) == 1 and kind(statements[0]) == "CreateProcedureStatement":
            procedure = unwrap(statements[0])
            parameters = list(procedure.parameters.parameter_entries)
            if len(parameters) != len(args):
                raise ScriptError(f"procedure takes {len(parameters)} arguments, got {len(args)}")
            for parameter, value in zip(parameters, args, strict=True):
                self._scopes[0].variables[parameter.name.id_string.lower()] = Variable(self._slice(parameter.type), value)
            statements = list(procedure.body.statement_list_node.statement_list)
        self._body = statements

    # --- running -------------------------------------------------------------------------

    def steps(self) -> Iterator[Step]:
        """Runs the script, yielding before each statement; sets `error` if it fails, `done` at its end."""
        try:
            yield from self._statements(self._body)
        except _Return:
            pass
        except ScriptError as error:
            self.error = error.message
        except (_Leave, _Continue):
            raise Unsupported("BREAK/CONTINUE outside a loop") from None
        finally:
            if self.txn is not None and not self.done:  # BigQuery rolls back a transaction the script left open
                self.db.rollback(self.txn)
                self.txn = None
            self.done = True

    def run(self) -> Script:
        """Runs to the end (nothing else running: a blocked statement cannot be waiting for anyone)."""
        for step in self.steps():
            if step.blocked:
                raise RuntimeError(f"{step.blocked}: blocked with no other script to wait for")
        return self

    def kill(self) -> None:
        """The job is cancelled where it stands: no handler runs, its open transaction rolls back."""
        if self.txn is not None:
            self.db.rollback(self.txn)
            self.txn = None
        self.done = True

    def variable(self, name: str) -> Any:
        """A variable's value as the script stands, or its last value once its block ended."""
        found = self._variable(name.lower()) or self._declared.get(name.lower())
        if found is None:
            raise KeyError(name)
        return found.value

    def query(self, sql: str) -> Table:
        """A query in this script's context (its variables and temp tables), for tests to look through."""
        return self._execute_query(sql.encode())

    # --- statements ----------------------------------------------------------------------

    def _statements(self, statements: Sequence[Any]) -> Iterator[Step]:
        for statement in statements:
            yield from self._statement(unwrap(statement))

    def _step(self, node: Any, text_node: Any | None = None) -> Step:
        return Step(self, kind(node), self._slice(text_node or node), self.txn is not None)

    def _statement(self, node: Any) -> Iterator[Step]:
        name = kind(node)
        if name == "BeginEndBlock":
            yield from self._block(node)
        elif name == "IfStatement":
            yield from self._if(node)
        elif name == "WhileStatement":
            yield from self._loop(node)
        elif name in ("BreakStatement", "ContinueStatement"):
            yield self._step(node)
            if node.parent.HasField("label"):
                raise Unsupported("labelled BREAK/CONTINUE")
            raise _Leave if name == "BreakStatement" else _Continue
        elif name == "ReturnStatement":
            yield self._step(node)
            raise _Return
        elif name == "VariableDeclaration":
            yield self._step(node)
            self._declare(node)
        elif name == "SingleAssignment":
            yield self._step(node)
            self._assign(node)
        elif name == "RaiseStatement":
            yield self._step(node)
            self._raise(node)
        else:
            yield from self._leaf(node, name)

    def _block(self, node: Any) -> Iterator[Step]:
        self._scopes.append(_Scope())
        try:
            yield from self._statements(node.statement_list_node.statement_list)
        except ScriptError as error:
            if not node.HasField("handler_list"):
                raise
            (handler,) = node.handler_list.exception_handler_list
            self._scopes[-1] = _Scope()
            self._handling.append(error.message)
            try:
                yield from self._statements(handler.statement_list.statement_list)
            finally:
                self._handling.pop()
        finally:
            self._scopes.pop()

    def _if(self, node: Any) -> Iterator[Step]:
        branches = [(node.condition, node.then_list)]
        if node.HasField("elseif_clauses"):
            branches += [(clause.condition, clause.body) for clause in node.elseif_clauses.elseif_clauses]
        for condition, body in branches:
            yield self._step(node, condition)
            if self._truth(condition):
                yield from self._nested(body)
                return
        if node.HasField("else_list"):
            yield from self._nested(node.else_list)

    def _nested(self, statement_list: Any) -> Iterator[Step]:
        self._scopes.append(_Scope())
        try:
            yield from self._statements(statement_list.statement_list)
        finally:
            self._scopes.pop()

    def _loop(self, node: Any) -> Iterator[Step]:
        body = node.parent.body
        while True:
            if node.HasField("condition"):
                yield self._step(node, node.condition)
                if not self._truth(node.condition):
                    return
            try:
                yield from self._nested(body)
            except _Leave:
                return
            except _Continue:
                continue

    def _leaf(self, node: Any, name: str) -> Iterator[Step]:
        if name == "QueryStatement":
            yield self._step(node)
            self._execute_query(self._slice_bytes(node))
        elif name in ("InsertStatement", "UpdateStatement", "DeleteStatement"):
            yield from self._dml(node)
        elif name == "CreateTableStatement":
            yield self._step(node)
            self._create_temp(node)
        elif name == "CreateIndexStatement" and node.is_vector:
            yield self._step(node)
            self._tick()
            self.db.recorded.append(self._slice(node))
            if self.db.record_error is not None:
                raise ScriptError(self.db.record_error)
        elif name == "BeginStatement":
            yield self._step(node)
            self._tick()
            if self.txn is not None:
                raise ScriptError("Transaction already started: transactions cannot be nested")
            self.txn = self.db.begin()
        elif name in ("CommitStatement", "RollbackStatement"):
            yield self._step(node)
            self._tick()
            if self.txn is None:
                raise ScriptError(f"{name.removesuffix('Statement').upper()} without an open transaction")
            (self.db.commit if name == "CommitStatement" else self.db.rollback)(self.txn)
            self.txn = None
        else:
            raise Unsupported(f"{name}: {self._slice(node)[:200]}")
        if name not in ("InsertStatement", "UpdateStatement", "DeleteStatement"):
            self._row_count = None

    def _dml(self, node: Any) -> Iterator[Step]:
        target = ".".join(_names(node.target_path))
        temp = target in self.temp
        step = self._step(node)
        yield step
        while not temp:  # checked and run in one resumption: nothing else moves in between
            try:
                self.db.check_write(target, self.txn)
            except Blocked as waiting:
                yield Step(step.script, step.kind, step.text, step.in_transaction, blocked=waiting.table)
                continue
            except Aborted as aborted:
                raise ScriptError(str(aborted)) from None
            break

        def run(text: bytes, params: dict[str, Any], catalog: dict[str, Table]) -> tuple[Table, int]:
            return self.engine.dml(text.decode(), catalog, params)

        table, count = self._bound(self._slice_bytes(node), run)
        if temp:
            self.temp[target] = table
        else:
            self.db.write(target, table, self.txn)
        self._row_count = count

    def _create_temp(self, node: Any) -> None:
        base = unwrap(node.parent)
        create = unwrap(base.parent)
        if create.scope != 3 or not node.HasField("query"):  # TEMPORARY
            raise Unsupported(f"only CREATE TEMP TABLE … AS SELECT runs here: {self._slice(node)[:200]}")
        name = ".".join(_names(base.name))
        if name in self.temp and not create.is_or_replace:
            raise ScriptError(f"Already Exists: Table {name}")
        self.temp[name] = self._execute_query(self._slice_bytes(node.query))

    # --- expressions and variables -------------------------------------------------------

    def _declare(self, node: Any) -> None:
        names = [identifier.id_string.lower() for identifier in node.variable_list.identifier_list]
        declared = self._slice(node.type) if node.HasField("type") else None
        value, found = None, declared
        if node.HasField("default_value"):
            value, found = self._evaluate(node.default_value)
            if declared is not None:
                value = self._coerce(value, found, declared)
        for name in names:
            if name in self._scopes[-1].variables:
                raise ScriptError(f"Variable {name} is already declared")
            self._scopes[-1].variables[name] = self._declared[name] = Variable(declared or found, value)

    def _assign(self, node: Any) -> None:
        name = node.variable.id_string.lower()
        variable = self._variable(name)
        if variable is None:
            raise ScriptError(f"Undeclared variable: {name}")
        value, found = self._evaluate(node.expression)
        variable.value = self._coerce(value, found, variable.type)

    def _raise(self, node: Any) -> None:
        if node.HasField("message"):
            message, _ = self._evaluate(node.message)
            raise ScriptError("" if message is None else str(message))
        if not self._handling:
            raise ScriptError("RAISE without a message is allowed only in an exception handler")
        raise ScriptError(self._handling[-1])

    def _truth(self, condition: Any) -> bool:
        value, _ = self._evaluate(condition)
        return value is True

    def _evaluate(self, expression: Any) -> tuple[Any, str]:
        """An expression's value and BigQuery type, evaluated as `SELECT (expression)`."""
        result = self._execute_query(b"SELECT (" + self._slice_bytes(expression) + b")")
        self._row_count = None
        ((_, type_text),) = result.columns
        return result.rows[0][result.columns[0][0]], type_text

    @staticmethod
    def _coerce(value: Any, found: str, declared: str) -> Any:
        found, declared = found.upper().replace(" ", ""), declared.upper().replace(" ", "")
        if value is None or found == declared:
            return value
        if (found, declared) in _COERCIBLE:
            return float(value) if declared == "FLOAT64" else value
        raise ScriptError(f"Query error: Cannot coerce expression of type {found} to type {declared}")

    def _variable(self, name: str) -> Variable | None:
        for scope in reversed(self._scopes):
            if name in scope.variables:
                return scope.variables[name]
        return None

    def _visible(self) -> set[str]:
        return {name for scope in self._scopes for name in scope.variables}

    # --- binding and running one statement on the engine ---------------------------------

    def _tick(self) -> Any:
        now = self.db.clock.tick()
        return self.txn.began_at if self.txn is not None else now

    def _catalog(self) -> dict[str, Table]:
        return {**self.db.view(self.txn), **self._extra(), **self.temp}

    def _execute_query(self, text: bytes) -> Table:
        return self._bound(text, lambda sql_text, params, catalog: self.engine.query(sql_text.decode(), catalog, params))

    def _bound(self, text: bytes, run: Callable[[bytes, dict[str, Any], dict[str, Table]], Any]) -> Any:
        """Runs `text` with its system variables, CURRENT_TIMESTAMP() and script variables bound as parameters."""
        now = self._tick()
        text, system = self._system(text)
        params: dict[str, Any] = {}
        for path, (param, type_text) in _SYSTEM.items():
            if param in system:
                value = self._row_count if path == ("row_count",) else (self._handling[-1] if self._handling else None)
                params[param] = Param(value, type_text)
        if _NOW in system:
            params[_NOW] = Param(now, "TIMESTAMP")
        if _UUID in system:
            params[_UUID] = Param(str(uuid.uuid4()), "STRING")
        catalog = self._catalog()
        variables = frozenset(self._visible())
        key = (text, tuple(sorted((name, tuple(c for c, _ in t.columns)) for name, t in catalog.items())), variables)
        current, used = _BOUND.get(key, (text, frozenset()))
        while True:
            bound = {**params, **{name: Param(self._variable(name).value, self._variable(name).type) for name in used}}
            try:
                result = run(current, bound, catalog)
            except GoogleSQLError as error:
                rebound = self._rebind(current, error, variables)
                if rebound is None:
                    raise ScriptError(error.message) from None
                current, name = rebound
                used = used | {name}
                continue
            _BOUND[key] = (current, used)
            return result

    @staticmethod
    def _rebind(text: bytes, error: GoogleSQLError, variables: frozenset[str]) -> tuple[bytes, str] | None:
        """`text` with the unrecognized name the engine reports made a parameter, if it is a variable."""
        match = _UNRECOGNIZED.match(error.message)
        if match is None:
            return None
        name = match.group(1).strip("`").lower()
        if name not in variables:
            return None
        line, column = int(match.group(2)), int(match.group(3))
        lines = text.split(b"\n")
        if b"\t" in lines[line - 1]:
            raise Unsupported("a tab before a variable: ZetaSQL's columns count tabs as eight")
        offset = sum(len(previous) + 1 for previous in lines[: line - 1]) + column - 1
        token = _IDENTIFIER.match(text, offset)
        if token is None or token.group(0).strip(b"`").lower() != name.encode():
            raise Unsupported(f"could not find {name} at {line}:{column} of {text.decode()}")
        return text[:offset] + b"@" + name.encode() + text[token.end() :], name

    def _system(self, text: bytes) -> tuple[bytes, frozenset[str]]:
        """@@row_count, @@error.message, CURRENT_TIMESTAMP() and GENERATE_UUID() as parameters (from the statement's parse tree)."""
        original = text
        if original in _SYSTEM_BOUND:
            return _SYSTEM_BOUND[original]
        replacements: list[tuple[int, int, str]] = []
        for node in nodes(self.engine.parse(text.decode(), script=False)):
            name = node.DESCRIPTOR.name
            if name == "ASTSystemVariableExprProto":
                path = tuple(n.lower() for n in _names(node.path))
                if path not in _SYSTEM:
                    raise Unsupported(f"@@{'.'.join(path)}")
                replacements.append((*span(node), _SYSTEM[path][0]))
            elif name == "ASTFunctionCallProto":
                function = ".".join(_names(node.function)).upper()
                if function == "CURRENT_TIMESTAMP":
                    replacements.append((*span(node), _NOW))
                elif function == "GENERATE_UUID":
                    replacements.append((*span(node), _UUID))
                elif function in _CLOCKS:
                    raise Unsupported(f"{function}: the harness's clock gives CURRENT_TIMESTAMP only")
        for start, end, param in sorted(replacements, reverse=True):
            text = text[:start] + b"@" + param.encode() + text[end:]
        result = (text, frozenset(param for _, _, param in replacements))
        _SYSTEM_BOUND[original] = result
        return result

    def _slice_bytes(self, node: Any) -> bytes:
        start, end = span(node)
        return self._text[start:end]

    def _slice(self, node: Any) -> str:
        return self._slice_bytes(node).decode()

