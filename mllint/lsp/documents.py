"""The documents the client has open: their text as the editor holds it (saved or not), by URI."""

from __future__ import annotations

import os
from dataclasses import field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from mllint.lsp.positions import UTF16, TextIndex, apply_change
from mllint.records import record


def uri_to_path(uri: str) -> Path | None:
    """The local file a `file:` URI names; None for any other scheme (an unsaved buffer, a remote file)."""
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    path = unquote(parsed.path)
    if os.name == "nt" and path.startswith("/") and len(path) > 2 and path[2] == ":":  # pragma: no cover
        path = path[1:]
    return Path(path)


def path_to_uri(path: Path) -> str:
    return path.absolute().as_uri()


@record
class Document:
    uri: str
    text: str
    version: int | None = None
    language_id: str = ""
    _index: TextIndex | None = field(default=None, repr=False)

    @property
    def path(self) -> Path | None:
        return uri_to_path(self.uri)

    @property
    def index(self) -> TextIndex:
        """Positions in the current text (made once per version)."""
        if self._index is None or self._index.text is not self.text:
            self._index = TextIndex(self.text)
        return self._index

    def apply(self, changes: list[dict[str, Any]], version: int | None, encoding: str = UTF16) -> None:
        text = self.text
        for change in changes:
            text = apply_change(text, change, encoding)
        self.text, self.version = text, version


class DocumentStore:
    def __init__(self) -> None:
        self._docs: dict[str, Document] = {}

    def open(self, uri: str, text: str, version: int | None = None, language_id: str = "") -> Document:
        doc = self._docs[uri] = Document(uri, text, version, language_id)
        return doc

    def get(self, uri: str) -> Document | None:
        return self._docs.get(uri)

    def close(self, uri: str) -> Document | None:
        return self._docs.pop(uri, None)

    def __iter__(self) -> Any:
        return iter(list(self._docs.values()))

    def __len__(self) -> int:
        return len(self._docs)
