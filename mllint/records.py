"""`record`: a dataclass whose `__init__`, `__repr__`, `__eq__` and `__hash__` are generated on first use.

`dataclasses.dataclass` compiles those methods for every class when its module is imported, about 0.25 ms a class:
a one-file scan imports some 80 such classes and constructs few of them (a cached result is unpickled, which calls
no `__init__`). A record is a real dataclass, made with `init`, `repr` and `eq` off, so `fields`, `replace`, pickling
and frozen assignment behave as before; the first call of one of those four methods on a class has `dataclass`
generate them for a class of the same fields and options, and installs them on the record. They are the very
functions `@dataclass` would have installed (tests compare both on every record of the model).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar, cast, dataclass_transform, overload

T = TypeVar("T", bound=type)

_LAZY = ("__init__", "__repr__", "__eq__")


@overload
def record(cls: T, /) -> T: ...


@overload
def record(*, frozen: bool = False, slots: bool = False) -> Callable[[T], T]: ...


@dataclass_transform(field_specifiers=(dataclasses.field, dataclasses.Field))
def record(cls: T | None = None, /, *, frozen: bool = False, slots: bool = False) -> T | Callable[[T], T]:
    """Like `@dataclass` (with its default `init`, `repr` and `eq`), `frozen` and `slots` as there."""

    def wrap(cls: T) -> T:
        if not cls.__doc__:  # else `dataclass` builds one from the signature, with `inspect`: 0.2 ms a class
            cls.__doc__ = cls.__name__
        made: Any = dataclasses.dataclass(cls, init=False, repr=False, eq=False, frozen=frozen, slots=slots)
        for name in _LAZY:
            setattr(made, name, _on_first_use(made, name))
        # as `@dataclass(eq=True)` leaves it: unhashable unless frozen, then hashed by its fields
        made.__hash__ = _on_first_use(made, "__hash__") if frozen else None
        return cast(T, made)

    return wrap if cls is None else wrap(cls)


def _on_first_use(cls: type, name: str) -> Callable[..., Any]:
    def first_use(self: Any, *args: Any, **kwargs: Any) -> Any:
        generate(cls)
        return getattr(cls, name)(self, *args, **kwargs)

    first_use.__name__ = name
    first_use.__qualname__ = f"{cls.__qualname__}.{name}"
    return first_use


def generate(cls: type) -> None:
    """Install the methods `@dataclass` generates for `cls`'s fields and options (done once per class)."""
    if "__dataclass_generated__" in cls.__dict__:
        return
    params = cls.__dataclass_params__  # type: ignore[attr-defined]
    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {
        "__module__": cls.__module__,
        "__qualname__": cls.__qualname__,
        "__annotations__": annotations,
    }
    for f in dataclasses.fields(cls):
        annotations[f.name] = f.type
        namespace[f.name] = dataclasses.field(
            default=f.default,
            default_factory=f.default_factory,
            init=f.init,
            repr=f.repr,
            hash=f.hash,
            compare=f.compare,
            metadata=f.metadata,
            kw_only=f.kw_only,
        )
    if hasattr(cls, "__post_init__"):
        namespace["__post_init__"] = cls.__post_init__
    # a slotted class has no class attribute to fall back on: its `__init__` also sets the non-init defaults
    slots = "__slots__" in cls.__dict__
    model: Any = dataclasses.dataclass(type(cls.__name__, (), namespace), frozen=params.frozen, slots=slots)
    for name in (*_LAZY, "__hash__") if params.frozen else _LAZY:
        setattr(cls, name, model.__dict__[name])
    type.__setattr__(cls, "__dataclass_generated__", True)
