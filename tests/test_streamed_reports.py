"""JSON and SARIF written a finding at a time are byte for byte the documents written whole."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

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


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=5) | st.integers(), inner, max_size=4)
        | st.tuples(inner, inner)
    ),
    max_leaves=20,
)


@given(st.lists(_JSON, max_size=4))
def test_streamed_items_equal_dumps_for_any_json_values(items):
    """The fast indenting writer falls back to `json.dumps` for what it does not write itself (floats, keys
    that are not strings), so any value comes out the same."""
    frame: dict = {"list": [], "after": 1}
    assert "".join(streamed(frame, ("list",), iter(items))) == json.dumps({"list": items, "after": 1}, indent=2) + "\n"


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
