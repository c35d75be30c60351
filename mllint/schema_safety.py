"""What a custom rule's JSON Schema may not do: reach outside its own file (`$ref` to a URL or a file), or
hold a regular expression whose nested repetition can backtrack for longer than any scan may take."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

try:  # Python 3.11+
    from re import _parser as sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - Python 3.10
    import sre_parse

_REFS = ("$ref", "$dynamicRef")
_UNBOUNDED = 10  # a repeat of more than this many is a loop that can nest
_REPEATS = ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT")


def problems(schema: Any, at: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], str]]:
    """(path in the schema, why) for each reference out of the file and each pattern that can backtrack."""
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key in _REFS and isinstance(value, str) and not value.startswith("#"):
                yield (*at, key), f"{key} {value!r} points outside this rule file; refer to `#/$defs/...` in it"
            elif key == "pattern" and isinstance(value, str) and nested_repeat(value):
                yield (*at, key), f"the pattern {value!r} repeats a repetition, which can take exponential time"
            elif key == "patternProperties" and isinstance(value, dict):
                for name in value:
                    if nested_repeat(name):
                        yield (
                            (*at, key, name),
                            f"the pattern {name!r} repeats a repetition, which can take exponential time",
                        )
            yield from problems(value, (*at, key))
    elif isinstance(schema, list):
        for i, item in enumerate(schema):
            yield from problems(item, (*at, i))


def nested_repeat(pattern: str) -> bool:
    """Whether `pattern` repeats something that starts with a repetition (`(a+)+`, `(\\w+\\s?)*`, `(a|b+)*`):
    the shape that makes a backtracking engine try exponentially many ways to split the same text. A repeated
    group that starts with a fixed character (`(\\.[0-9]+)*`) can split a text one way only and is safe. An
    invalid pattern counts as safe here: the schema check says why."""
    try:
        parsed = sre_parse.parse(pattern)
    except Exception:
        return False
    return _nested(list(parsed))


def _loops(arg: Any) -> bool:
    high = arg[1]
    return bool(high is sre_parse.MAXREPEAT or high > _UNBOUNDED)


def _children(op: str, arg: Any) -> list[list[Any]]:
    """The sub-patterns inside one item."""
    if op in _REPEATS:
        return [list(arg[2])]
    if op == "SUBPATTERN":
        return [list(arg[-1])]
    if op == "BRANCH":
        return [list(branch) for branch in arg[1]]
    if op in ("ASSERT", "ASSERT_NOT"):
        return [list(arg[1])]
    return []


def _starts_with_repeat(items: list[Any]) -> bool:
    if not items:
        return False
    op, arg = str(items[0][0]), items[0][1]
    if op in _REPEATS:
        return _loops(arg) or _starts_with_repeat(list(arg[2]))
    return any(_starts_with_repeat(child) for child in _children(op, arg))


def _nested(items: list[Any]) -> bool:
    for op_, arg in items:
        op = str(op_)
        if op in _REPEATS and _loops(arg) and _starts_with_repeat(list(arg[2])):
            return True
        if any(_nested(child) for child in _children(op, arg)):
            return True
    return False


def local_registry() -> Any:
    """A reference registry that resolves nothing outside the schema itself (no network, no files)."""
    from referencing import Registry
    from referencing.exceptions import NoSuchResource

    def refuse(uri: str) -> Any:
        raise NoSuchResource(ref=uri)  # type: ignore[call-arg]

    return Registry(retrieve=refuse)  # type: ignore[call-arg]
