"""Records behave as the dataclasses they stand for, before and after their methods are generated."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pickle
import pkgutil
from dataclasses import field
from typing import Any

import pytest

import mllint
from mllint import records
from mllint.records import record


def _post(self: Any) -> None:
    self.total = self.count * 2


def _pair(frozen: bool, slots: bool) -> tuple[type, type]:
    """The same class body made by `record` and by `dataclass` (with every kind of field the model uses)."""

    def body() -> dict[str, Any]:
        return {
            "__module__": __name__,
            "__annotations__": {
                "name": "str",
                "count": "int",
                "tags": "tuple[str, ...]",
                "note": "str | None",
                "total": "int",
                "hidden": "int",
            },
            "count": 1,
            "tags": field(default_factory=lambda: ("d",)),
            "note": field(default=None, repr=False, compare=False),
            "total": field(default=0, init=False),
            "hidden": field(default=7, init=False, repr=False, compare=False),
            **({} if frozen else {"__post_init__": _post}),  # a frozen instance cannot assign in it
        }

    made = record(type("Sample", (), body()), frozen=frozen, slots=slots)  # type: ignore[call-overload]
    real: type = dataclasses.dataclass(type("Sample", (), body()), frozen=frozen, slots=slots)
    return made, real


@pytest.mark.parametrize("frozen", [False, True])
@pytest.mark.parametrize("slots", [False, True])
def test_a_record_answers_as_its_dataclass(frozen: bool, slots: bool) -> None:
    made, real = _pair(frozen, slots)
    assert "__dataclass_generated__" not in made.__dict__
    if not slots:  # a plain default stays a class attribute, a factory's field has none
        assert made.__dict__["count"] == real.__dict__["count"] == 1
        assert "tags" not in made.__dict__ and "tags" not in real.__dict__
    assert dataclasses.is_dataclass(made) and "__dataclass_generated__" in made.__dict__  # asking made it
    assert (
        repr(made.__dataclass_params__) == repr(real.__dataclass_params__)
        and made.__match_args__ == real.__match_args__
    )
    a, b = made("x", 3, ("t",), note="n"), real("x", 3, ("t",), note="n")
    assert repr(a) == repr(b) and str(a) == str(b)
    assert a == made("x", 3, ("t",), note="other") and a != made("y")
    assert [f.name for f in dataclasses.fields(a)] == [f.name for f in dataclasses.fields(b)]
    assert str(inspect.signature(made)) == str(inspect.signature(real))
    assert (made.__hash__ is None) == (real.__hash__ is None) == (not frozen)
    if frozen:
        assert hash(a) == hash(made("x", 3, ("t",), note="n"))
        with pytest.raises(dataclasses.FrozenInstanceError):
            a.name = "z"
        with pytest.raises(dataclasses.FrozenInstanceError):
            del a.name
    else:
        assert a.total == b.total == 6
    assert a.hidden == b.hidden == 7 and made("x").tags == b.__class__("x").tags == ("d",)  # the factory runs
    assert dataclasses.replace(a, name="y") == made("y", 3, ("t",))
    assert hasattr(made, "__slots__") == hasattr(real, "__slots__") == slots


@record(frozen=True, slots=True)
class Pickled:
    name: str
    count: int = 0


@record(slots=True)
class PickledMutable:
    name: str
    tags: list[str] = field(default_factory=list)


def test_a_record_met_first_through_pickle_compares_hashes_and_prints() -> None:
    assert "__dataclass_generated__" not in Pickled.__dict__  # only this test uses the class
    instance = object.__new__(Pickled)
    object.__setattr__(instance, "name", "a")
    object.__setattr__(instance, "count", 2)
    back = pickle.loads(pickle.dumps(instance, protocol=pickle.HIGHEST_PROTOCOL))  # no __init__ on either side
    assert "__dataclass_generated__" not in Pickled.__dict__
    assert back == instance and hash(back) == hash(Pickled("a", 2)) and repr(back) == "Pickled(name='a', count=2)"
    mutable = object.__new__(PickledMutable)
    mutable.name, mutable.tags = "b", ["t"]
    again = pickle.loads(pickle.dumps(mutable))
    assert "__dataclass_generated__" not in PickledMutable.__dict__
    assert again == PickledMutable("b", ["t"]) and again.tags == ["t"]


def _mllint_records() -> list[type]:
    found = []
    for info in pkgutil.walk_packages(mllint.__path__, "mllint."):
        if info.name.startswith(("mllint.live.nvml", "mllint.__main__")):
            continue
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if isinstance(value, type) and value.__module__ == info.name and "__dataclass_fields__" in value.__dict__:
                found.append(value)
    return found


def test_every_dataclass_of_mllint_is_a_record_whose_generated_init_takes_its_fields() -> None:
    found = _mllint_records()
    assert len(found) > 60
    for cls in found:
        assert records.SPEC in cls.__dict__, cls  # made by `record`
        records.generate(cls)
        params = list(inspect.signature(cls).parameters.values())
        assert [p.name for p in params] == [f.name for f in dataclasses.fields(cls) if f.init], cls
        assert (cls.__hash__ is None) == (not cls.__dataclass_params__.frozen), cls  # type: ignore[attr-defined]
        assert cls.__dict__["__init__"].__code__.co_name == "__init__", cls  # no longer the stub (`first_use`)
