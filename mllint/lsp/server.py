"""The message loop: requests and notifications in, responses and diagnostics out.

A thread reads messages into a queue; the main thread handles every message that has arrived, then publishes the
diagnostics of the documents they touched: a burst of edits is checked once, at its last version, and every
version a client waits for after a pause is published (deterministic for a client that waits)."""

from __future__ import annotations

import os
import queue
import sys
import threading
import traceback
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

from mllint import __version__, config
from mllint.lsp import actions, protocol
from mllint.lsp.diagnostics import diagnostic, span_range
from mllint.lsp.documents import Document, DocumentStore, path_to_uri, uri_to_path
from mllint.lsp.positions import UTF16, TextIndex, choose_encoding
from mllint.lsp.workspace import CONFIG_NAMES, Shown, Workspace
from mllint.model import Finding, Span

SYNC_INCREMENTAL = 2
LOG_ERROR, LOG_WARNING, LOG_INFO = 1, 2, 3
_END = object()  # the input stream ended


class Server:
    def __init__(self, reader: BinaryIO, writer: BinaryIO) -> None:
        self.reader, self.writer = reader, writer
        self.inbox: queue.Queue[Any] = queue.Queue()
        self.docs = DocumentStore()
        self.roots: list[Path] = []  # the client's workspace folders
        self.workspaces: dict[Path, Workspace] = {}
        self.encoding = UTF16
        self.initialized = False
        self.shutting_down = False
        self.dirty: set[str] = set()  # URIs whose diagnostics are checked after the messages at hand
        self.changed: set[str] = set()  # those whose text changed: published even when the diagnostics did not
        self.published: dict[str, list[dict[str, Any]]] = {}
        self.current: dict[str, list[tuple[Finding, dict[str, Any]]]] = {}  # what each URI's diagnostics show
        self.warned: set[str] = set()
        self._next_id = 0

    # the loop

    def serve(self) -> int:
        """Handle messages until `exit` (0 after `shutdown`, else 1) or the end of input (1)."""
        threading.Thread(target=self._read, name="mllint-lsp-reader", daemon=True).start()
        while True:
            message = self.inbox.get()
            while True:
                if message is _END:
                    return 0 if self.shutting_down else 1
                code = self.handle(message)
                if code is not None:
                    return code
                try:
                    message = self.inbox.get_nowait()
                except queue.Empty:
                    break
            try:
                self.flush()
            except Exception:  # a bug must not end the session: the next change tries again
                self.log(traceback.format_exc(), LOG_ERROR)

    def _read(self) -> None:
        while True:
            try:
                message = protocol.read_message(self.reader)
            except protocol.ProtocolError as exc:
                self.inbox.put({"jsonrpc": "2.0", "method": "$/mllint/badMessage", "params": str(exc)})
                continue
            except (OSError, ValueError):
                message = None
            if message is None:
                self.inbox.put(_END)
                return
            self.inbox.put(message)

    def send(self, message: dict[str, Any]) -> None:
        protocol.write_message(self.writer, message)

    def notify(self, method: str, params: Any) -> None:
        self.send(protocol.notification(method, params))

    def log(self, text: str, level: int = LOG_INFO) -> None:
        self.notify("window/logMessage", {"type": level, "message": text})

    def handle(self, message: dict[str, Any]) -> int | None:
        method, request_id = message.get("method"), message.get("id")
        if not isinstance(method, str):
            return None  # a response to a request of ours (client/registerCapability)
        params = message.get("params") or {}
        if method == "exit":
            return 0 if self.shutting_down else 1
        if request_id is not None:
            if method != "initialize" and not self.initialized:
                self.send(protocol.error(request_id, protocol.SERVER_NOT_INITIALIZED, "initialize first"))
                return None
            if self.shutting_down:
                self.send(protocol.error(request_id, protocol.INVALID_REQUEST, "the server is shutting down"))
                return None
            handler = self.requests.get(method)
            if handler is None:
                self.send(protocol.error(request_id, protocol.METHOD_NOT_FOUND, f"no method {method}"))
                return None
            try:
                self.send(protocol.response(request_id, handler(self, params)))
            except Exception as exc:  # one bad request must not end the session
                self.log(traceback.format_exc(), LOG_ERROR)
                self.send(protocol.error(request_id, protocol.INTERNAL_ERROR, f"{type(exc).__name__}: {exc}"))
            return None
        handler = self.notifications.get(method)
        if handler is not None and (self.initialized or method == "initialized"):
            try:
                handler(self, params)
            except Exception:
                self.log(traceback.format_exc(), LOG_ERROR)
        return None

    # lifecycle

    def initialize(self, params: dict[str, Any]) -> dict[str, Any]:
        self.encoding = choose_encoding(params.get("capabilities") or {})
        folders = params.get("workspaceFolders") or []
        uris = [f.get("uri") for f in folders if isinstance(f, dict)] or [params.get("rootUri")]
        self.roots = [p for p in (uri_to_path(u) for u in uris if isinstance(u, str)) if p is not None]
        if not self.roots and isinstance(params.get("rootPath"), str):
            self.roots = [Path(params["rootPath"])]
        self.initialized = True
        return {
            "capabilities": {
                "positionEncoding": self.encoding,
                "textDocumentSync": {
                    "openClose": True,
                    "change": SYNC_INCREMENTAL,
                    "save": {"includeText": False},
                },
                "codeActionProvider": {"codeActionKinds": [actions.QUICKFIX, actions.FIX_ALL]},
                "workspace": {"workspaceFolders": {"supported": True, "changeNotifications": True}},
            },
            "serverInfo": {"name": "mllint", "version": __version__},
        }

    def on_initialized(self, params: dict[str, Any]) -> None:
        return None

    def shutdown(self, params: dict[str, Any]) -> None:
        self.shutting_down = True

    # documents

    def workspace_for(self, path: Path) -> Workspace:
        """The workspace a file belongs to: the innermost client folder that holds it, else the folder of its
        configuration or git repository (read alone, without its neighbours, when it has neither)."""
        inside = [r for r in self.roots if path.absolute().is_relative_to(r.absolute())]
        scan = True
        if inside:
            root = max(inside, key=lambda r: len(r.parts))
        else:
            root = config.project_root([str(path)])
            scan = config.find(path) is not None or any((f / ".git").exists() for f in (root, *root.parents))
        root = root.resolve()
        ws = self.workspaces.get(root)
        if ws is None:
            ws = self.workspaces[root] = Workspace(root, self.log, scan_files=scan)
            self._warn(ws)
        return ws

    def _warn(self, ws: Workspace) -> None:
        if ws.problem and ws.problem not in self.warned:
            self.warned.add(ws.problem)
            self.notify("window/showMessage", {"type": LOG_WARNING, "message": ws.problem})

    def _check(self, doc: Document) -> Workspace | None:
        """Check a document's text; the workspace it is in (None for a file mllint does not read)."""
        path = doc.path
        if path is None:
            return None
        ws = self.workspace_for(path)
        kind = ws.kind_of(path, doc.language_id)
        if kind is None:
            return None
        ws.update(path, kind, doc.text)
        self._touch(ws)
        return ws

    def _touch(self, ws: Workspace) -> None:
        """Every open document of the workspace may have new cross-file findings: check what it shows."""
        for doc in self.docs:
            path = doc.path
            if path is not None and ws.contains(path):
                self.dirty.add(doc.uri)

    def did_open(self, params: dict[str, Any]) -> None:
        item = params["textDocument"]
        doc = self.docs.open(item["uri"], item.get("text", ""), item.get("version"), item.get("languageId", ""))
        self.dirty.add(doc.uri)
        self.changed.add(doc.uri)
        self._check(doc)

    def did_change(self, params: dict[str, Any]) -> None:
        item = params["textDocument"]
        doc = self.docs.get(item["uri"])
        if doc is None:
            return
        doc.apply(params.get("contentChanges") or [], item.get("version"), self.encoding)
        self.dirty.add(doc.uri)
        self.changed.add(doc.uri)
        self._check(doc)

    def did_save(self, params: dict[str, Any]) -> None:
        uri = params["textDocument"]["uri"]
        path = uri_to_path(uri)
        if path is None:
            return
        if path.name in CONFIG_NAMES:
            self._reload(path)
            return
        doc = self.docs.get(uri)
        if doc is not None:
            if isinstance(params.get("text"), str):
                doc.text = params["text"]
            ws = self._check(doc)
            self.dirty.add(uri)
            self.changed.add(uri)
            if ws is not None:
                ws.saved(path)

    def did_close(self, params: dict[str, Any]) -> None:
        uri = params["textDocument"]["uri"]
        doc = self.docs.close(uri)
        path = uri_to_path(uri)
        self.dirty.discard(uri)
        self.current.pop(uri, None)
        if uri in self.published:
            del self.published[uri]
        self.notify("textDocument/publishDiagnostics", {"uri": uri, "diagnostics": []})
        if doc is not None and path is not None:
            ws = self.workspace_for(path)
            ws.revert(path)
            self._touch(ws)

    def did_change_watched_files(self, params: dict[str, Any]) -> None:
        for change in params.get("changes") or []:
            path = uri_to_path(change.get("uri", ""))
            if path is None:
                continue
            if path.name in CONFIG_NAMES:
                self._reload(path)
                continue
            ws = self.workspace_for(path)
            if ws.contains(path):
                ws.changed_on_disk(path, deleted=change.get("type") == 3)
                self._touch(ws)

    def did_change_folders(self, params: dict[str, Any]) -> None:
        event = params.get("event") or {}
        for folder in event.get("removed") or []:
            path = uri_to_path(folder.get("uri", ""))
            if path is not None:
                self.roots = [r for r in self.roots if r != path]
                self.workspaces.pop(path.resolve(), None)
        for folder in event.get("added") or []:
            path = uri_to_path(folder.get("uri", ""))
            if path is not None and path not in self.roots:
                self.roots.append(path)
        for doc in self.docs:
            self._check(doc)

    def _reload(self, path: Path) -> None:
        """A configuration file changed: every workspace it may govern reads it again."""
        for root, ws in list(self.workspaces.items()):
            if root == path.parent.resolve() or root.is_relative_to(path.parent.resolve()):
                ws.load()
                self._warn(ws)
                for doc in self.docs:
                    doc_path = doc.path
                    if doc_path is not None and ws.contains(doc_path):
                        self._check(doc)

    # diagnostics

    def flush(self) -> None:
        """Publish the diagnostics of every document touched since the last flush."""
        if not self.dirty:
            return
        uris, changed = sorted(self.dirty), self.changed
        self.dirty, self.changed = set(), set()
        by_ws: dict[Path, list[Document]] = {}
        for uri in uris:
            doc = self.docs.get(uri)
            path = doc.path if doc is not None else None
            if doc is None or path is None:
                continue
            ws = self.workspace_for(path)
            by_ws.setdefault(ws.root, []).append(doc)
        for root, docs in by_ws.items():
            ws = self.workspaces[root]
            displays = {doc.uri: ws.display(doc.path) for doc in docs if doc.path is not None}
            known = {uri: d for uri, d in displays.items() if d in ws.unsaved}
            findings = ws.findings(known.values())
            for doc in docs:
                display = known.get(doc.uri)
                pairs = [] if display is None else self._diagnostics(ws, doc, findings.get(display, []))
                shown = [d for _, d in pairs]
                self.current[doc.uri] = pairs
                if self.published.get(doc.uri) == shown and doc.uri not in changed:
                    continue
                self.published[doc.uri] = shown
                params: dict[str, Any] = {"uri": doc.uri, "diagnostics": shown}
                if doc.version is not None:
                    params["version"] = doc.version
                self.notify("textDocument/publishDiagnostics", params)

    def _diagnostics(self, ws: Workspace, doc: Document, findings: list[Shown]) -> list[tuple[Finding, dict[str, Any]]]:
        rules = ws.plan.rules

        def locate(span: Span) -> dict[str, Any] | None:
            target = self._resolve(ws, span.path)
            if target is None:
                return None
            uri, index = target
            return {"uri": uri, "range": span_range(index, span, self.encoding)}

        return [
            (f, diagnostic(f, doc.index, rules, locate, self.encoding, origin))
            for f, origin in findings
            if f.span.line > 0
        ]

    def _resolve(self, ws: Workspace, display: str) -> tuple[str, TextIndex] | None:
        """A file of the workspace as (URI, positions in its text): the editor's text where it holds the file."""
        path = ws.path_of(display)
        uri = path_to_uri(path)
        doc = self.docs.get(uri)
        if doc is not None:
            return uri, doc.index
        text = ws.file_text(display)
        return None if text is None else (uri, TextIndex(text))

    # code actions

    def code_action(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        self.flush()  # the findings of the text the client sees
        uri = params["textDocument"]["uri"]
        doc, path = self.docs.get(uri), uri_to_path(uri)
        if doc is None or path is None:
            return []
        ws = self.workspace_for(path)
        wanted = (params.get("context") or {}).get("only")
        start = doc.index.offset(params["range"]["start"], self.encoding)
        end = doc.index.offset(params["range"]["end"], self.encoding)
        out: list[dict[str, Any]] = []
        pairs = self.current.get(uri, [])

        def resolve(display: str) -> tuple[str, TextIndex] | None:
            return self._resolve(ws, display)

        if not wanted or any(kind == actions.QUICKFIX or actions.QUICKFIX.startswith(kind) for kind in wanted):
            for finding, diag in pairs:
                first = doc.index.offset(diag["range"]["start"], self.encoding)
                last = doc.index.offset(diag["range"]["end"], self.encoding)
                if first <= end and start <= last:
                    action = actions.quick_fix(finding, diag, resolve, self.encoding)
                    if action is not None:
                        out.append(action)
        if not wanted or any(actions.FIX_ALL.startswith(kind) for kind in wanted):
            action = actions.fix_all((f for f, _ in pairs), resolve, self.encoding)
            if action is not None:
                out.append(action)
        return out

    def bad_message(self, params: Any) -> None:
        self.log(f"mllint: ignored a message that is not LSP: {params}", LOG_ERROR)

    requests: ClassVar[dict[str, Any]] = {
        "initialize": initialize,
        "shutdown": shutdown,
        "textDocument/codeAction": code_action,
    }
    notifications: ClassVar[dict[str, Any]] = {
        "initialized": on_initialized,
        "textDocument/didOpen": did_open,
        "textDocument/didChange": did_change,
        "textDocument/didSave": did_save,
        "textDocument/didClose": did_close,
        "workspace/didChangeWatchedFiles": did_change_watched_files,
        "workspace/didChangeWorkspaceFolders": did_change_folders,
        "$/mllint/badMessage": bad_message,
    }


def serve(reader: BinaryIO | None = None, writer: BinaryIO | None = None) -> int:
    """Speak LSP on stdin and stdout until the client says `exit`; the exit status LSP asks for."""
    stdout = writer or sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing but protocol messages may reach stdout
    code = Server(reader or sys.stdin.buffer, stdout).serve()
    if reader is None:  # the reader thread still waits on stdin, which interpreter shutdown would wait for
        stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code
