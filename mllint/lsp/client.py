"""A minimal LSP client that starts `mllint server` as a subprocess and drives it over stdio, every read with a
timeout: what the tests and the latency benchmark talk to the server with."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from mllint.lsp import protocol

TIMEOUT = 10.0


class LspClient:
    def __init__(self, cwd: Path, timeout: float = TIMEOUT, command: list[str] | None = None) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            command or [sys.executable, "-m", "mllint", "server", "--stdio"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            env=env,
        )
        self.timeout = timeout
        self.inbox: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.notifications: list[dict[str, Any]] = []
        self._id = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        while True:
            try:
                message = protocol.read_message(self.proc.stdout)
            except (protocol.ProtocolError, OSError, ValueError):
                message = None
            self.inbox.put(message)
            if message is None:
                return

    def send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        protocol.write_message(self.proc.stdin, message)

    def notify(self, method: str, params: Any) -> None:
        self.send(protocol.notification(method, params))

    def _next(self, deadline: float) -> dict[str, Any]:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no message from the server in time")
        try:
            message = self.inbox.get(timeout=left)
        except queue.Empty:
            raise TimeoutError("no message from the server in time") from None
        if message is None:
            raise EOFError("the server closed its output")
        return message

    def request(self, method: str, params: Any) -> Any:
        self._id += 1
        self.send({"jsonrpc": "2.0", "id": self._id, "method": method, "params": params})
        deadline = time.monotonic() + self.timeout
        while True:
            message = self._next(deadline)
            if message.get("id") == self._id and "method" not in message:
                if "error" in message:
                    raise RuntimeError(message["error"])
                return message.get("result")
            self.notifications.append(message)

    def diagnostics(self, uri: str, version: int | None = None) -> list[dict[str, Any]]:
        """The next diagnostics published for `uri` (at `version`, where given)."""
        for i, message in enumerate(self.notifications):
            if _published(message, uri, version):
                del self.notifications[: i + 1]
                return list(message["params"]["diagnostics"])
        deadline = time.monotonic() + self.timeout
        while True:
            message = self._next(deadline)
            if _published(message, uri, version):  # what was published before for the document is older
                self.notifications = [m for m in self.notifications if not _published(m, uri, None)]
                return list(message["params"]["diagnostics"])
            self.notifications.append(message)

    def close(self) -> int:
        """shutdown, exit, and the server's exit status."""
        self.request("shutdown", None)
        self.notify("exit", None)
        try:
            return self.proc.wait(timeout=self.timeout)
        finally:
            self.kill()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


def _published(message: dict[str, Any], uri: str, version: int | None) -> bool:
    if message.get("method") != "textDocument/publishDiagnostics":
        return False
    params = message.get("params") or {}
    return params.get("uri") == uri and (version is None or params.get("version") == version)
