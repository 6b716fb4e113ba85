"""A TCP relay on 127.0.0.1 that can cut the connection in the middle of a request.

It stands between a client and a test server and copies bytes both ways. Once
`drop_next()` is armed, the next bytes from the client close both sides
instead of being forwarded. The server never sees that request, and the client
sees its connection reset. That is a real dropped connection, at the only layer
where one exists.
"""

from __future__ import annotations

import contextlib
import socket
import threading


class DroppingProxy:
    def __init__(self, upstream: str) -> None:
        host, port = upstream.rsplit(":", 1)
        self._upstream = (host, int(port))
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._armed = 0
        self.dropped = 0
        self._lock = threading.Lock()
        self._closing = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self._listener.getsockname()[1]}"

    def drop_next(self, times: int = 1) -> None:
        with self._lock:
            self._armed += times

    def stop(self) -> None:
        self._closing = True
        self._listener.close()

    def _accept(self) -> None:
        while not self._closing:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(self._upstream)
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, from_client: bool) -> None:
        try:
            while data := source.recv(65536):
                if from_client and self._take():
                    break
                sink.sendall(data)
        except OSError:
            pass
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _take(self) -> bool:
        with self._lock:
            if self._armed:
                self._armed -= 1
                self.dropped += 1
                return True
            return False
