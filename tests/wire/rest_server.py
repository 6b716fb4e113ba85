"""A Google REST API on 127.0.0.1, routed and checked by its discovery document, for the preflight's reads.

Each request is routed by the document's method paths (`flatPath`), its query checked against
the method's parameters (an unknown or wrongly repeated one is answered 400 and recorded in
`problems`), and each answer checked against the method's response schema before it is sent,
so the fake answers as the API describes too. Routes outside the document (the Docker Registry
HTTP API Artifact Registry serves) are added with `route`.

Requests must carry `Authorization: Bearer TOKEN` (401 otherwise), as Google's APIs require;
`headers` records what came with each call (the quota project's `x-goog-user-project`).

Faults: `inject(method_id, fault, ...)` queues answers for the next calls of a method: an HTTP
error in Google's JSON error format (`http_error`, `service_disabled`: a 403 whose
google.rpc.ErrorInfo says SERVICE_DISABLED, as an API that is off answers) or a dropped
connection (`DROPPED`).
"""

from __future__ import annotations

import json
import logging
import re
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pytest_httpserver import HTTPServer, URIPattern
from werkzeug import Request, Response

from tests.wire.discovery import Document, SchemaError

TOKEN = "preflight-test-token"
_STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}

Handler = Callable[[dict[str, str], dict[str, list[str]]], dict[str, Any]]


@dataclass(frozen=True)
class Fault:
    status: int = 0
    message: str = ""
    details: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    drop: bool = False


DROPPED = Fault(drop=True)


def http_error(status: int, message: str) -> Fault:
    return Fault(status=status, message=message)


def service_disabled(service: str, project: str) -> Fault:
    """What an API that is off answers (403, google.rpc.ErrorInfo reason SERVICE_DISABLED)."""
    return Fault(
        status=403,
        message=f"{service} has not been used in project {project} before or it is disabled. Enable it by visiting "
        f"https://console.developers.google.com/apis/api/{service}/overview?project={project} then retry.",
        details=(
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "SERVICE_DISABLED",
                "domain": "googleapis.com",
                "metadata": {"service": service, "consumer": f"projects/{project}"},
            },
        ),
    )


class ApiError(Exception):
    """Raised by a handler: answered as Google's JSON error."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


class RestServer:
    def __init__(self, document: Document, handlers: dict[str, Handler]) -> None:
        self.document = document
        self.handlers = handlers
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.problems: list[str] = []
        self.faults_injected = 0
        self._faults: dict[str, list[Fault]] = {}
        self._routes: list[tuple[str, str, re.Pattern[str], Callable[..., Response]]] = [
            (method_id, document.method(method_id)["httpMethod"], document.path_pattern(method_id), self._discovered(method_id))
            for method_id in handlers
        ]
        self._lock = threading.Lock()
        self._http = HTTPServer(host="127.0.0.1", port=0)
        self._http.expect_request(_AnyPath()).respond_with_handler(self._handle)

    def start(self) -> RestServer:
        self._http.start()
        return self

    def stop(self) -> None:
        self._http.stop()

    @property
    def url(self) -> str:
        return self._http.url_for("/").rstrip("/")

    def route(self, name: str, verb: str, pattern: str, handler: Callable[[dict[str, str], Request], Response]) -> None:
        """A route outside the discovery document; `handler(params, request)` answers it whole."""
        self._routes.append((name, verb, re.compile(pattern), lambda params, request: handler(params, request)))

    def inject(self, method_id: str, *faults: Fault) -> None:
        self._faults.setdefault(method_id, []).extend(faults)

    def called(self, method_id: str) -> list[dict[str, Any]]:
        return [call for name, call in self.calls if name == method_id]

    # --- HTTP ---------------------------------------------------------------------------------

    def _handle(self, request: Request) -> Response:
        with self._lock:
            for name, verb, pattern, answer in self._routes:
                match = pattern.match(request.path)
                if match and request.method == verb:
                    self.calls.append((name, {"params": match.groupdict(), "args": request.args.to_dict(flat=False), "headers": dict(request.headers)}))
                    if request.headers.get("Authorization") != f"Bearer {TOKEN}":
                        return _error(401, "Request is missing required authentication credential.")
                    queued = self._faults.get(name)
                    if queued:
                        fault = queued.pop(0)
                        self.faults_injected += 1
                        if fault.drop:
                            sock: socket.socket = request.environ["werkzeug.socket"]
                            sock.shutdown(socket.SHUT_RDWR)
                            return Response(status=500)  # never reaches the client
                        return _error(fault.status, fault.message, fault.details)
                    return answer(match.groupdict(), request)
            self.problems.append(f"no such method: {request.method} {request.path}")
            return _error(404, f"no such method: {request.method} {request.path}")

    def _discovered(self, method_id: str) -> Callable[[dict[str, str], Request], Response]:
        def answer(params: dict[str, str], request: Request) -> Response:
            args = request.args.to_dict(flat=False)
            try:
                self.document.check_query(method_id, args)
            except SchemaError as exc:
                self.problems.append(f"{method_id}: {exc}")
                return _error(400, f"Invalid request: {exc}")
            try:
                payload = self.handlers[method_id](params, args)
            except ApiError as exc:
                return _error(exc.status, exc.message)
            response = self.document.method(method_id).get("response")
            if response:
                self.document.check(payload, response["$ref"])  # the fake must answer as the API describes
            return Response(json.dumps(payload), status=200, content_type="application/json")

        return answer


def _error(status: int, message: str, details: tuple[dict[str, Any], ...] = ()) -> Response:
    body = {"error": {"code": status, "message": message, "status": _STATUS.get(status, "UNKNOWN"), **({"details": list(details)} if details else {})}}
    return Response(json.dumps(body), status=status, content_type="application/json")


class _AnyPath(URIPattern):
    """Every path reaches our handler: routing follows the discovery document, not a list of URLs."""

    def match(self, uri: str) -> bool:
        return True


logging.getLogger("werkzeug").setLevel(logging.ERROR)
