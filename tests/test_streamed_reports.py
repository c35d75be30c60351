"""JSON and SARIF written a finding at a time are byte for byte the documents written whole."""

from __future__ import annotations

import json

import pytest

from mllint import engine
from mllint.report import chunks, json_report, sarif_report
from mllint.report.guard import guarded
from mllint.report.streamed import streamed


@pytest.mark.parametrize(
    ("frame", "where", "items"),
    [
        ({"a": 1, "list": [], "z": {"k": "v"}}, ("list",), [{"x": [1, 2], "y": 'ü\n"q"'}, {"x": []}, 3]),
        ({"a": 1, "list": []}, ("list",), []),
        ({"runs": [{"tool": {}, "results": [], "after": True}]}, ("runs", 0, "results"), [{"deep": {"er": [None]}}]),
    ],
)
def test_streamed_equals_dumps(frame, where, items):
    whole = json.loads(json.dumps(frame))
    holder = whole
    for key in where[:-1]:
        holder = holder[key]
    holder[where[-1]] = list(items)
    assert "".join(streamed(frame, where, iter(items))) == json.dumps(whole, indent=2) + "\n"


@pytest.fixture(scope="module")
def scanned() -> engine.Result:
    return engine.scan(["fixtures"], engine.Options(jobs=1))


def test_json_report_streams_the_same_bytes(scanned):
    assert len(scanned.findings) > 500
    whole = json.dumps(json_report.document(guarded(scanned), verbose=True), indent=2) + "\n"
    assert "".join(chunks("json", scanned, verbose=True)) == whole


def test_sarif_report_streams_the_same_bytes(scanned):
    whole = json.dumps(sarif_report.document(guarded(scanned), root="."), indent=2) + "\n"
    assert "".join(chunks("sarif", scanned, root=".")) == whole


def test_an_empty_report_streams_the_same_bytes():
    empty = engine.scan([], engine.Options(jobs=1))
    for fmt, module in (("json", json_report), ("sarif", sarif_report)):
        doc = module.document(guarded(empty)) if fmt == "json" else module.document(guarded(empty), root=".")
        assert "".join(chunks(fmt, empty, root=".")) == json.dumps(doc, indent=2) + "\n"
