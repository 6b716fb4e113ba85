"""A BigQuery REST server on 127.0.0.1 for google.cloud.bigquery.Client.

It speaks what the project uses: jobs.insert, jobs.get and jobs.getQueryResults
for statements and queries, load jobs through jobs.insert's media upload
(multipart, and resumable for 5 MiB and more, as the client chooses), models.get,
tables.get and routines.get for reads, tables.testIamPermissions for the preflight. Every request is routed by the discovery
document's method paths and its body and query checked against the document's
resources; a request the document does not allow is answered 400 and recorded in
`problems`. Statements are parsed with sqlglot's BigQuery dialect and executed
against a small model of datasets (each in a location), models and tables, so a
DROP really drops and a read sees it. A SELECT answers with the rows a test gave
a table (`give_rows`) or a load put there: the fake cannot compute ML.EVALUATE, it
can serve its result in BigQuery's wire format for the real client to decode.

Locations: a job runs in the location its jobReference names; a statement or a
load that touches a dataset in another location is refused as BigQuery refuses
it ("Not found: Dataset p:d was not found in location L").

Faults: `inject(method, fault, ...)` queues answers for the next calls of a
method (an HTTP error with BigQuery's error reason, or a dropped connection;
`jobs.upload` names the media upload of a load job);
`fail_next_job(reason, message)` makes the next job finish DONE with an
errorResult, as BigQuery reports a statement it refused; `fail_next_load` the
next load job.
"""

from __future__ import annotations

import datetime
import email.parser
import email.policy
import itertools
import json
import logging
import re
import socket
import threading
from dataclasses import dataclass
from typing import Any

from pytest_httpserver import HTTPServer, URIPattern
from sqlglot import errors as sqlglot_errors
from sqlglot import exp
from werkzeug import Request, Response

from tests.bigquery_sql import parse_all, table_name
from tests.wire import discovery

ROUTES = [
    ("jobs", "insert", "POST"),
    ("jobs", "get", "GET"),
    ("jobs", "getQueryResults", "GET"),
    ("jobs", "cancel", "POST"),
    ("models", "get", "GET"),
    ("tables", "get", "GET"),
    ("routines", "get", "GET"),
    ("tables", "testIamPermissions", "POST"),
]
_STATUS_OF_REASON = {
    "invalidQuery": 400,
    "invalid": 400,
    "notFound": 404,
    "accessDenied": 403,
    "rateLimitExceeded": 403,
    "backendError": 503,
    "internalError": 500,
}
_GRPC_STATUS = {400: "INVALID_ARGUMENT", 403: "PERMISSION_DENIED", 404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}


@dataclass(frozen=True)
class Fault:
    """One injected answer: an HTTP error with a BigQuery reason, or a dropped connection."""

    status: int = 0
    reason: str = ""
    message: str = ""
    drop: bool = False


def http_error(status: int, reason: str, message: str) -> Fault:
    return Fault(status=status, reason=reason, message=message)


DROPPED = Fault(drop=True)


class _Refused(Exception):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason, self.message = reason, message


def _error_body(status: int, reason: str, message: str) -> dict[str, Any]:
    return {
        "error": {
            "code": status,
            "message": message,
            "errors": [{"message": message, "domain": "global", "reason": reason}],
            "status": _GRPC_STATUS.get(status, "UNKNOWN"),
        }
    }


def _ref(table: exp.Table) -> tuple[str, str, str]:
    project, dataset, name = (part.name for part in table.parts)
    return project, dataset, name


class BigQueryServer:
    def __init__(self, project: str) -> None:
        self.project = project
        self.datasets: dict[str, str] = {}  # project.dataset -> its location
        self.models: dict[str, dict[str, Any]] = {}
        self.tables: dict[str, dict[str, Any]] = {}
        self.routines: dict[str, dict[str, Any]] = {}
        self.table_rows: dict[str, tuple[list[dict[str, str]], list[dict[str, Any]]]] = {}
        self.jobs: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.cancelled: list[str] = []
        self.indexes: dict[str, str] = {}  # table -> its vector index
        self.table_bytes: dict[str, int] = {}  # size_bytes that __TABLES__ reports per table (0 when not set)
        self.table_permissions: dict[str, set[str]] = {}  # the caller's permissions per table (absent: every one asked for)
        self.problems: list[str] = []
        self.faults_injected = 0
        self._faults: dict[str, list[Fault]] = {}
        self._job_failures: list[tuple[str, str]] = []
        self._load_failures: list[tuple[str, str]] = []
        self._polled: set[str] = set()
        self._uploads: dict[str, dict[str, Any]] = {}  # resumable sessions: id -> the job's metadata
        self.loaded: dict[str, bytes] = {}  # load job id -> the bytes it was sent
        self._job_location = "US"  # where the job being run runs
        self._lock = threading.Lock()
        self._routes = [(f"{r}.{m}", verb, discovery.path_pattern(r, m)) for r, m, verb in ROUTES]
        self._upload = discovery.upload_pattern("jobs", "insert")
        self._http = HTTPServer(host="127.0.0.1", port=0)
        self._http.expect_request(_AnyPath()).respond_with_handler(self._handle)

    # --- lifecycle and set-up ------------------------------------------------------------

    def start(self) -> BigQueryServer:
        self._http.start()
        return self

    def stop(self) -> None:
        self._http.stop()

    @property
    def url(self) -> str:
        return self._http.url_for("/").rstrip("/")

    def add_dataset(self, dataset: str, location: str = "US") -> None:
        self.datasets[f"{self.project}.{dataset}"] = location

    def add_table(self, table: str, location: str, fields: list[dict[str, str]] | None = None) -> None:
        """A table of the user's, as tables.get reports it (with its location and, if given, its schema)."""
        project, dataset, name = table.split(".")
        self.datasets.setdefault(f"{project}.{dataset}", location)
        self.tables[table] = {
            **({"schema": {"fields": fields}} if fields is not None else {}),
            "kind": "bigquery#table",
            "id": f"{project}:{dataset}.{name}",
            "tableReference": {"projectId": project, "datasetId": dataset, "tableId": name},
            "type": "TABLE",
            "location": location,
            "creationTime": "1764000001000",
        }

    def give_rows(self, table: str, fields: list[dict[str, str]], rows: list[dict[str, Any]]) -> None:
        """What `SELECT * FROM table` answers: a schema (name, type) and rows by column name."""
        self.table_rows[table] = (fields, rows)

    def inject(self, method: str, *faults: Fault) -> None:
        self._faults.setdefault(method, []).extend(faults)

    def fail_next_job(self, reason: str, message: str) -> None:
        self._job_failures.append((reason, message))

    def fail_next_load(self, reason: str, message: str) -> None:
        self._load_failures.append((reason, message))

    def called(self, method: str) -> list[dict[str, Any]]:
        return [request for name, request in self.calls if name == method]

    def executed(self) -> list[str]:
        """The statements of every job inserted, in order."""
        return [request["body"]["configuration"]["query"]["query"] for request in self.called("jobs.insert")]

    # --- HTTP --------------------------------------------------------------------------

    def _handle(self, request: Request) -> Response:
        with self._lock:
            upload = self._upload.match(request.path)
            if upload:
                return self._media(upload.group("projectId"), request)
            for name, verb, pattern in self._routes:
                match = pattern.match(request.path)
                if match and request.method == verb:
                    return self._dispatch(name, match.groupdict(), request)
            self.problems.append(f"no such method: {request.method} {request.path}")
            return self._error(404, "notFound", f"Not found: {request.method} {request.path}")

    def _dispatch(self, name: str, params: dict[str, str], request: Request) -> Response:
        resource, method = name.split(".")
        body = request.get_json(silent=True) if request.data else None
        args = dict(request.args)
        self.calls.append((name, {"params": params, "args": args, "body": body}))
        try:
            discovery.check_query(resource, method, args)
            request_schema = discovery.method(resource, method).get("request")
            if request_schema:
                discovery.check(body, request_schema["$ref"])
        except discovery.SchemaError as exc:
            self.problems.append(f"{name}: {exc}")
            return self._error(400, "invalid", f"Invalid request: {exc}")
        queued = self._faults.get(name)
        if queued:
            fault = queued.pop(0)
            self.faults_injected += 1
            if fault.drop:
                sock: socket.socket = request.environ["werkzeug.socket"]
                sock.shutdown(socket.SHUT_RDWR)
                return Response(status=500)  # never reaches the client
            return self._error(fault.status, fault.reason, fault.message)
        handler = getattr(self, "_" + name.replace(".", "_"))
        try:
            return self._json(handler(params, args, body), _response_schema(resource, method))
        except _Refused as exc:
            return self._error(_STATUS_OF_REASON[exc.reason], exc.reason, exc.message)

    # --- load jobs: jobs.insert with media -------------------------------------------------

    def _media(self, project: str, request: Request) -> Response:
        """A load job's upload: multipart (metadata and data in one request) or resumable (a session, then the data)."""
        args = dict(request.args)
        self.calls.append(("jobs.upload", {"params": {"projectId": project}, "args": args, "method": request.method}))
        try:
            discovery.check_query("jobs", "insert", {k: v for k, v in args.items() if k != "upload_id"})
        except discovery.SchemaError as exc:
            self.problems.append(f"jobs.upload: {exc}")
            return self._error(400, "invalid", f"Invalid request: {exc}")
        queued = self._faults.get("jobs.upload")
        if queued:
            fault = queued.pop(0)
            self.faults_injected += 1
            if fault.drop:
                request.environ["werkzeug.socket"].shutdown(socket.SHUT_RDWR)
                return Response(status=500)
            return self._error(fault.status, fault.reason, fault.message)
        kind = args.get("uploadType")
        if request.method == "POST" and kind == "multipart":
            metadata, data = _multipart(request)
            return self._load_response(project, metadata, data)
        if request.method == "POST" and kind == "resumable":
            session = f"upload-{next(_ids)}"
            self._uploads[session] = request.get_json()
            location = f"{self.url}{request.path}?uploadType=resumable&upload_id={session}"
            return Response(status=200, headers={"Location": location})
        if request.method == "PUT" and args.get("upload_id") in self._uploads:
            # The client sends chunks of 100 MiB: what the stack copies arrives in one.
            data = request.get_data()
            if request.headers.get("Content-Range") != f"bytes 0-{len(data) - 1}/{len(data)}":
                self.problems.append(f"jobs.upload: not the whole upload in one chunk: {request.headers.get('Content-Range')}")
            return self._load_response(project, self._uploads.pop(args["upload_id"]), data)
        self.problems.append(f"jobs.upload: unexpected {request.method} {request.full_path}")
        return self._error(400, "invalid", "Invalid upload request")

    def _load_response(self, project: str, metadata: dict[str, Any], data: bytes) -> Response:
        try:
            discovery.check(metadata, "Job")
        except discovery.SchemaError as exc:
            self.problems.append(f"jobs.upload: {exc}")
            return self._error(400, "invalid", f"Invalid request: {exc}")
        reference = metadata.get("jobReference", {})
        job_id = reference.get("jobId") or f"job_{next(_ids)}"
        location = reference.get("location") or "US"
        job = {
            "kind": "bigquery#job",
            "id": f"{project}:{location}.{job_id}",
            "jobReference": {"projectId": project, "jobId": job_id, "location": location},
            "configuration": metadata["configuration"],
            "status": {"state": "DONE"},
            "statistics": {"creationTime": "1764000000000", "startTime": "1764000000100", "endTime": "1764000001000"},
        }
        self.loaded[job_id] = data
        try:
            if self._load_failures:
                self.faults_injected += 1
                raise _Refused(*self._load_failures.pop(0))
            self._job_location = location
            rows = self._load(metadata["configuration"]["load"], data)
            job["statistics"]["load"] = {"outputRows": str(rows)}
        except _Refused as exc:
            error = {"reason": exc.reason, "message": exc.message}
            job["status"] = {"state": "DONE", "errorResult": error, "errors": [error]}
        self.jobs[job_id] = job
        return self._json({**_public(job), "status": {"state": "RUNNING"}}, "Job")

    def _load(self, config: dict[str, Any], data: bytes) -> int:
        """Newline-delimited JSON into the destination table, typed by the job's schema; returns the rows loaded."""
        if config.get("sourceFormat") != "NEWLINE_DELIMITED_JSON":
            raise _Refused("invalid", f"this server loads NEWLINE_DELIMITED_JSON only, not {config.get('sourceFormat')}")
        ref = config["destinationTable"]
        self._dataset(ref["projectId"], ref["datasetId"])
        full = f"{ref['projectId']}.{ref['datasetId']}.{ref['tableId']}"
        fields = config.get("schema", {}).get("fields")
        if not fields:
            raise _Refused("invalid", "No schema specified on job or table.")
        rows = [_typed(json.loads(line), fields, number) for number, line in enumerate(data.decode("utf-8").splitlines(), 1) if line]
        disposition = config.get("writeDisposition", "WRITE_APPEND")
        if disposition == "WRITE_EMPTY" and self.table_rows.get(full, ([], []))[1]:
            raise _Refused("duplicate", f"Already Exists: Table {full.replace('.', ':', 1)}")
        if disposition == "WRITE_APPEND" and full in self.table_rows:
            rows = self.table_rows[full][1] + rows
        self.tables[full] = {
            "kind": "bigquery#table",
            "id": full.replace(".", ":", 1),
            "tableReference": {"projectId": ref["projectId"], "datasetId": ref["datasetId"], "tableId": ref["tableId"]},
            "type": "TABLE",
            "location": self._job_location,
            "numRows": str(len(rows)),
            "schema": {"fields": fields},
            "creationTime": "1764000001000",
        }
        self.table_rows[full] = ([{"name": f["name"], "type": f["type"]} for f in fields], rows)
        return len(rows)

    def _json(self, payload: dict[str, Any], schema: str | None) -> Response:
        if schema:
            discovery.check(payload, schema)  # the fake must answer as the API describes, too
        return Response(json.dumps(payload), status=200, content_type="application/json")

    def _error(self, status: int, reason: str, message: str) -> Response:
        return Response(json.dumps(_error_body(status, reason, message)), status=status, content_type="application/json")

    # --- jobs ----------------------------------------------------------------------------

    def _jobs_insert(self, params: dict[str, str], _args: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        reference = body.get("jobReference", {})
        job_id = reference.get("jobId") or f"job_{next(_ids)}"
        location = reference.get("location") or "US"
        config = body["configuration"]["query"]
        if job_id in self.jobs:
            raise _Refused("invalid", f"Already Exists: Job {params['projectId']}:{location}.{job_id}")
        job = {
            "kind": "bigquery#job",
            "id": f"{params['projectId']}:{location}.{job_id}",
            "jobReference": {"projectId": params["projectId"], "jobId": job_id, "location": location},
            "configuration": body["configuration"],
            "status": {"state": "DONE"},
            "statistics": {"creationTime": "1764000000000", "startTime": "1764000000100", "endTime": "1764000001000"},
        }
        self._job_location = location
        try:
            if self._job_failures:
                self.faults_injected += 1
                raise _Refused(*self._job_failures.pop(0))
            if config.get("useLegacySql", True):
                raise _Refused("invalidQuery", "Unrecognized DDL statement: legacy SQL does not support it; set useLegacySql to false")
            result = self._execute(config["query"])
            if result is not None:
                job["_result"] = result
        except _Refused as exc:
            error = {"reason": exc.reason, "message": exc.message, "location": "query"}
            job["status"] = {"state": "DONE", "errorResult": error, "errors": [error]}
        self.jobs[job_id] = job
        return {**_public(job), "status": {"state": "RUNNING"}}  # done at the first poll

    def _jobs_cancel(self, params: dict[str, str], _args: dict[str, str], _body: Any) -> dict[str, Any]:
        job = self.jobs.get(params["jobId"])
        if job is None:
            raise _Refused("notFound", f"Not found: Job {params['projectId']}:{params['jobId']}")
        self.cancelled.append(params["jobId"])
        return {"kind": "bigquery#jobCancelResponse", "job": _public(job)}

    def _job(self, params: dict[str, str]) -> dict[str, Any]:
        job = self.jobs.get(params["jobId"])
        if job is None:
            raise _Refused("notFound", f"Not found: Job {params['projectId']}:{params['jobId']}")
        self._polled.add(params["jobId"])
        return job

    def _jobs_get(self, params: dict[str, str], _args: dict[str, str], _body: Any) -> dict[str, Any]:
        return _public(self._job(params))

    def _jobs_getQueryResults(self, params: dict[str, str], args: dict[str, str], _body: Any) -> dict[str, Any]:
        job = self._job(params)
        error = job["status"].get("errorResult")
        if error:  # getQueryResults reports a failed job as an HTTP error
            raise _Refused(error["reason"], error["message"])
        answer = {"kind": "bigquery#getQueryResultsResponse", "jobReference": job["jobReference"], "jobComplete": True}
        fields, rows = job.get("_result", ([], []))
        if args.get("maxResults") == "0":  # the client's "is it done?" poll asks for no rows
            rows = []
        int64_timestamps = args.get("formatOptions.useInt64Timestamp", "").lower() == "true"
        encoded = [{"f": [{"v": _wire_value(row.get(f["name"]), f["type"], int64_timestamps)} for f in fields]} for row in rows]
        total = len(job.get("_result", ([], []))[1])
        return {**answer, "totalRows": str(total), "schema": {"fields": fields}, **({"rows": encoded} if rows else {})}

    # --- reads -----------------------------------------------------------------------------

    def _models_get(self, params: dict[str, str], _args: dict[str, str], _body: Any) -> dict[str, Any]:
        return self._lookup(self.models, params, "modelId", "Model")

    def _tables_get(self, params: dict[str, str], _args: dict[str, str], _body: Any) -> dict[str, Any]:
        return self._lookup(self.tables, params, "tableId", "Table")

    def _tables_testIamPermissions(self, params: dict[str, str], _args: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        full = f"{params['projectsId']}.{params['datasetsId']}.{params['tablesId']}"
        if full not in self.tables:
            raise _Refused("notFound", f"Not found: Table {params['projectsId']}:{params['datasetsId']}.{params['tablesId']}")
        asked = body.get("permissions", [])
        held = self.table_permissions.get(full, set(asked))
        return {"permissions": [p for p in asked if p in held]}

    def _routines_get(self, params: dict[str, str], _args: dict[str, str], _body: Any) -> dict[str, Any]:
        return self._lookup(self.routines, params, "routineId", "Routine")

    def _lookup(self, store: dict[str, dict[str, Any]], params: dict[str, str], key: str, kind: str) -> dict[str, Any]:
        full = f"{params['projectId']}.{params['datasetId']}.{params[key]}"
        if full not in store:
            raise _Refused("notFound", f"Not found: {kind} {params['projectId']}:{params['datasetId']}.{params[key]}")
        return store[full]

    # --- statements --------------------------------------------------------------------

    def _script(self, sql: str) -> bool:
        """Scripts and statements sqlglot cannot read (CALL, procedures, vector indexes), by their shape;
        their grammar is GoogleSQL's parser's to judge (tests/test_program_corpora.py)."""
        text = "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--")).strip()
        if match := re.fullmatch(r"CALL `([^`]+)`\((?:NULL|[0-9]+)?\);?", text):
            if match.group(1) not in self.routines:
                raise _Refused("notFound", f"Not found: Routine {match.group(1)}")
            return True
        if match := re.match(r"CREATE OR REPLACE PROCEDURE `([^`]+)`\((?:[a-z_]+ [A-Z0-9]+)?\)\s+BEGIN\b", text):
            project, dataset, name = match.group(1).split(".")
            self._dataset(project, dataset)
            self.routines[match.group(1)] = {
                "etag": "routine-1",
                "routineReference": {"projectId": project, "datasetId": dataset, "routineId": name},
                "routineType": "PROCEDURE",
                "language": "SQL",
                "definitionBody": text,
                "creationTime": "1764000001000",
                "lastModifiedTime": "1764000001000",
            }
            return True
        index = r"VECTOR INDEX (?:IF NOT EXISTS )?`([^`]+)` ON `([^`]+)`"
        size = r"SELECT size_bytes FROM `([^`]+)\.__TABLES__` WHERE table_id = '([^']+)'"
        if match := re.match(rf"IF \({size}\) >= ([0-9]+) THEN\s+CREATE (?:OR REPLACE )?{index}", text):
            table = f"{match.group(1)}.{match.group(2)}"
            if table not in self.tables:
                raise _Refused("notFound", f"Not found: Table {table}")
            if self.table_bytes.get(table, 0) >= int(match.group(3)):
                self.indexes[match.group(5)] = match.group(4)
            return True
        if match := re.fullmatch(rf"DROP {index};?", text.replace("INDEX IF EXISTS", "INDEX")):
            if match.group(2) not in self.tables:
                raise _Refused("notFound", f"Not found: Table {match.group(2)}")
            self.indexes.pop(match.group(2), None)
            return True
        return False

    def _execute(self, sql: str) -> tuple[list[dict[str, str]], list[dict[str, Any]]] | None:
        if self._script(sql):
            return None
        try:
            statements = parse_all(sql)
        except (ValueError, sqlglot_errors.ParseError) as exc:
            raise _Refused("invalidQuery", f"Syntax error: {exc}") from None
        if not statements:
            raise _Refused("invalidQuery", "Syntax error: the query is empty")
        result = None
        for statement in statements:  # a multi-statement query runs its statements in order
            result = self._statement(statement, sql)
        return result

    def _statement(self, statement: exp.Expression, sql: str) -> tuple[list[dict[str, str]], list[dict[str, Any]]] | None:
        for table in statement.find_all(exp.Table):  # every dataset a statement touches is in the job's location
            if len(table.parts) == 3 and f"{table.parts[0].name}.{table.parts[1].name}" in self.datasets:
                self._dataset(table.parts[0].name, table.parts[1].name)
        kinds = ("MODEL", "TABLE", "TABLE FUNCTION", "VIEW", "PROCEDURE")
        if isinstance(statement, exp.Create) and statement.args.get("kind") in kinds:
            self._create(statement)
        elif isinstance(statement, exp.Drop) and statement.args.get("kind") in kinds:
            self._drop(statement)
        elif isinstance(statement, (exp.Insert, exp.Update, exp.Delete, exp.Alter)):  # DML, ALTER TABLE: the table must exist
            target = table_name(statement.this.this if isinstance(statement.this, exp.Schema) else statement.this)
            if target not in self.tables:
                raise _Refused("notFound", f"Not found: Table {target.replace('.', ':', 1)}")
        elif isinstance(statement, exp.Select) and statement.args.get("from_"):
            source = table_name(statement.args["from_"].this)
            self._dataset(*source.split(".")[:2])
            if source not in self.tables:
                raise _Refused("notFound", f"Not found: Table {source.replace('.', ':', 1)}")
            return self.table_rows.get(source, ([], []))
        else:
            raise _Refused("invalidQuery", f"this server runs CREATE/DROP MODEL/TABLE/TABLE FUNCTION and SELECT ... FROM a table only, not: {sql}")
        return None

    def _dataset(self, project: str, dataset: str) -> None:
        located = self.datasets.get(f"{project}.{dataset}")
        if located is None:
            raise _Refused("notFound", f"Not found: Dataset {project}:{dataset}")
        if located.lower() != self._job_location.lower():
            raise _Refused("notFound", f"Not found: Dataset {project}:{dataset} was not found in location {self._job_location}")

    def _create(self, statement: exp.Create) -> None:
        function = statement.args["kind"] == "TABLE FUNCTION"
        project, dataset, name = _ref(statement.this.this if function or isinstance(statement.this, exp.Schema) else statement.this)
        self._dataset(project, dataset)
        full = f"{project}.{dataset}.{name}"
        if function:
            self.routines[full] = {
                "etag": "routine-1",
                "routineReference": {"projectId": project, "datasetId": dataset, "routineId": name},
                "routineType": "TABLE_VALUED_FUNCTION",
                "language": "SQL",
                "arguments": [
                    {"name": column.name, "dataType": {"typeKind": column.args["kind"].sql(dialect="bigquery")}}
                    for column in statement.this.expressions
                ],
                "definitionBody": statement.expression.sql(dialect="bigquery"),
                "creationTime": "1764000001000",
                "lastModifiedTime": "1764000001000",
            }
            return
        if statement.args["kind"] in ("TABLE", "VIEW"):
            self.tables[full] = {
                "kind": "bigquery#table",
                "id": f"{project}:{dataset}.{name}",
                "tableReference": {"projectId": project, "datasetId": dataset, "tableId": name},
                "type": statement.args["kind"],
                "location": self._job_location,
                "creationTime": "1764000001000",
            }
            return
        options = {
            p.name.lower(): p.args["value"].name
            for p in statement.args["properties"].expressions
            if isinstance(p, exp.Property) and isinstance(p.args.get("value"), exp.Literal)
        }
        model: dict[str, Any] = {
            "modelReference": {"projectId": project, "datasetId": dataset, "modelId": name},
            "creationTime": "1764000001000",
            "location": self._job_location,
        }
        remote = statement.find(exp.RemoteWithConnectionModelProperty)
        if remote is not None:
            model["remoteModelInfo"] = {"endpoint": options["endpoint"], "connection": remote.this.sql(dialect="bigquery").strip("`")}
        elif options.get("model_type", "").upper() == "TENSORFLOW":
            model["modelType"] = "TENSORFLOW"
            model["trainingRuns"] = [{"trainingOptions": {"modelUri": options["model_path"]}}]
        elif options.get("model_type", "").upper() == "LOGISTIC_REG" and statement.expression is not None:
            model["modelType"] = "LOGISTIC_REGRESSION"
            model["trainingRuns"] = [{"trainingOptions": {"dataSplitMethod": options.get("data_split_method", "AUTO_SPLIT")}}]
        else:
            raise _Refused("invalidQuery", f"unsupported CREATE MODEL options {options}")
        self.models[full] = model

    def _drop(self, statement: exp.Drop) -> None:
        (table,) = statement.args.get("tables", [statement.this])
        project, dataset, name = _ref(table)
        self._dataset(project, dataset)
        store = {"MODEL": self.models, "TABLE": self.tables, "VIEW": self.tables, "TABLE FUNCTION": self.routines, "PROCEDURE": self.routines}[
            statement.args["kind"]
        ]
        full = f"{project}.{dataset}.{name}"
        if full not in store and not statement.args.get("exists"):
            raise _Refused("notFound", f"Not found: {statement.args['kind'].title()} {project}:{dataset}.{name}")
        store.pop(full, None)
        self.indexes.pop(full, None)  # a table's index goes with it


def _multipart(request: Request) -> tuple[dict[str, Any], bytes]:
    """A multipart/related upload: the job's JSON, then the data."""
    head = f"Content-Type: {request.headers['Content-Type']}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + request.get_data())
    metadata, data = (part.get_payload(decode=True) for part in message.iter_parts())
    return json.loads(metadata), data


def _typed(row: Any, fields: list[dict[str, Any]], number: int) -> dict[str, Any]:
    """One JSON row as a load reads it against the schema: unknown fields and wrong types are refused."""
    if not isinstance(row, dict):
        raise _Refused("invalid", f"Error while reading data, error message: JSON parsing error in row starting at position {number}: not an object")
    types = {f["name"]: f["type"] for f in fields}
    for key, value in row.items():
        if key not in types:
            raise _Refused("invalid", f"Error while reading data, error message: JSON parsing error in row {number}: No such field: {key}.")
        if value is not None and not _fits(value, types[key]):
            raise _Refused("invalid", f"Error while reading data, error message: JSON table encountered too many errors: {key} {value!r} is not a {types[key]}")
    return row


def _fits(value: Any, type_: str) -> bool:
    if type_ == "STRING":
        return isinstance(value, str)
    if type_ in ("BOOLEAN", "BOOL"):
        return isinstance(value, bool)
    if type_ in ("INTEGER", "INT64"):
        return not isinstance(value, bool) and (isinstance(value, int) or (isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value) is not None))
    if type_ in ("FLOAT", "FLOAT64"):
        return not isinstance(value, bool) and isinstance(value, (int, float))
    if type_ == "TIMESTAMP":
        try:
            datetime.datetime.fromisoformat(value)
        except (TypeError, ValueError):
            return False
        return True
    return False


def _public(job: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in job.items() if not key.startswith("_")}


def _wire_value(value: Any, type_: str, int64_timestamps: bool) -> Any:
    """A cell as BigQuery's JSON carries it: strings, timestamps as seconds or microseconds since the epoch."""
    if value is None:
        return None
    if type_ == "TIMESTAMP":
        micros = int(datetime.datetime.fromisoformat(value).timestamp() * 1_000_000)
        return str(micros) if int64_timestamps else f"{micros / 1_000_000:.6f}"
    return str(value)


class _AnyPath(URIPattern):
    """Every path reaches our handler: routing follows the discovery document, not a list of URLs."""

    def match(self, uri: str) -> bool:
        return True


def _response_schema(resource: str, method: str) -> str | None:
    response = discovery.method(resource, method).get("response")
    return response["$ref"] if response else None


_ids = itertools.count(1)
logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the request log is ours (`calls`)
