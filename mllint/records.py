"""`record`: a dataclass made on first use.

`dataclasses.dataclass` reads every field and compiles `__init__`, `__repr__` and `__eq__` for each class when its
module is imported, about 0.3 ms a class: a one-file scan imports some 80 such classes and constructs a dozen (a
cached result is unpickled, which calls no `__init__`). A record is that class with only its slots and frozen
assignment in place at import; the first use of anything `dataclass` makes (constructing one, comparing, hashing,
printing, or `dataclasses.fields`, `replace`, `asdict` reading `__dataclass_fields__`) has `dataclass` process a
class of the same fields and options and installs what it made on the record. The methods are the very functions
`@dataclass` would have installed (tests compare both, and every record of mllint).

Records hold fields only: no `ClassVar`, `InitVar` or `KW_ONLY` annotation, and no base class.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import MISSING, Field, FrozenInstanceError
from typing import Any, NamedTuple, TypeVar, cast, dataclass_transform, overload

T = TypeVar("T", bound=type)

SPEC = "__mllint_record__"  # the class attribute that holds a record's `Spec`
_METHODS = ("__init__", "__repr__", "__eq__")
_MADE = ("__dataclass_fields__", "__dataclass_params__", "__match_args__")
_NOT_FIELDS = ("ClassVar", "typing.ClassVar", "InitVar", "dataclasses.InitVar", "KW_ONLY", "dataclasses.KW_ONLY")


class Spec(NamedTuple):
    annotations: dict[str, Any]
    defaults: dict[str, Any]  # the class body's values of its fields: defaults and `field()` specifiers
    frozen: bool
    slots: bool


@overload
def record(cls: T, /) -> T: ...


@overload
def record(*, frozen: bool = False, slots: bool = False) -> Callable[[T], T]: ...


@dataclass_transform(field_specifiers=(dataclasses.field, dataclasses.Field))
def record(cls: T | None = None, /, *, frozen: bool = False, slots: bool = False) -> T | Callable[[T], T]:
    """Like `@dataclass` (with its default `init`, `repr` and `eq`), `frozen` and `slots` as there."""

    def wrap(cls: T) -> T:
        return cast(T, _made(cls, frozen, slots))

    return wrap if cls is None else wrap(cls)


def _made(cls: type, frozen: bool, slots: bool) -> type:
    if cls.__bases__ != (object,):
        raise TypeError(f"record {cls.__qualname__}: a record has no base class")
    annotations = dict(cls.__dict__.get("__annotations__", {}))  # noqa: RUF063 (`inspect` is 10 ms to import)
    for name, kind in annotations.items():
        if (isinstance(kind, str) and kind.startswith(_NOT_FIELDS)) or kind is dataclasses.KW_ONLY:
            raise TypeError(f"record {cls.__qualname__}: {name} is not a field ({kind})")
    defaults = {name: cls.__dict__[name] for name in annotations if name in cls.__dict__}
    if slots:  # as `dataclass(slots=True)` makes it: the class again, with slots and without the defaults
        body = {k: v for k, v in cls.__dict__.items() if k not in defaults and k not in ("__dict__", "__weakref__")}
        body["__slots__"] = tuple(annotations)
        qualname = cls.__qualname__
        cls = type(cls)(cls.__name__, cls.__bases__, body)
        cls.__qualname__ = qualname
    else:  # as `dataclass` leaves them: a plain default stays a class attribute, a factory's field has none
        for name, value in defaults.items():
            if isinstance(value, Field):
                if value.default is MISSING:
                    delattr(cls, name)
                else:
                    setattr(cls, name, value.default)
    setattr(cls, SPEC, Spec(annotations, defaults, frozen, slots))
    for name in _METHODS:
        setattr(cls, name, _on_first_use(cls, name))
    # as `@dataclass(eq=True)` leaves it: unhashable unless frozen, then hashed by its fields
    setattr(cls, "__hash__", _on_first_use(cls, "__hash__") if frozen else None)  # noqa: B010
    for name in _MADE:
        setattr(cls, name, _Made(name))
    if frozen:
        frozen_methods: dict[str, Callable[..., Any]] = {"__setattr__": _frozen_setattr, "__delattr__": _frozen_delattr}
        if slots:  # pickled as `dataclass` pickles a frozen slotted class: the fields' values in order
            frozen_methods.update(__getstate__=_getstate, __setstate__=_setstate)
        for name, method in frozen_methods.items():
            setattr(cls, name, method)
    return cls


class _Made:
    """`__dataclass_fields__` and the like before they are made: asking for one makes them all."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, instance: Any, owner: type) -> Any:
        generate(owner)
        return owner.__dict__[self.name]


def _on_first_use(cls: type, name: str) -> Callable[..., Any]:
    def first_use(self: Any, *args: Any, **kwargs: Any) -> Any:
        generate(cls)
        return getattr(cls, name)(self, *args, **kwargs)

    first_use.__name__ = name
    first_use.__qualname__ = f"{cls.__qualname__}.{name}"
    return first_use


def _frozen_setattr(self: Any, name: str, value: Any) -> None:
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def _frozen_delattr(self: Any, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field {name!r}")


def _getstate(self: Any) -> list[Any]:
    return [getattr(self, name) for name in type(self).__slots__]


def _setstate(self: Any, state: list[Any]) -> None:
    for name, value in zip(type(self).__slots__, state, strict=True):
        object.__setattr__(self, name, value)


def generate(cls: type) -> None:
    """Have `dataclass` make `cls` (once): its fields, parameters and methods, installed on the record."""
    if "__dataclass_generated__" in cls.__dict__:
        return
    spec: Spec = cls.__dict__[SPEC]
    namespace: dict[str, Any] = {
        "__module__": cls.__module__,
        "__qualname__": cls.__qualname__,
        "__annotations__": dict(spec.annotations),
        "__doc__": cls.__doc__ or cls.__name__,  # else `dataclass` builds one from the signature
    }
    for name, value in spec.defaults.items():  # a fresh specifier: `dataclass` writes into the one it reads
        namespace[name] = (
            dataclasses.field(
                default=value.default,
                default_factory=value.default_factory,
                init=value.init,
                repr=value.repr,
                hash=value.hash,
                compare=value.compare,
                metadata=value.metadata,
                kw_only=value.kw_only,
            )
            if isinstance(value, Field)
            else value
        )
    if "__post_init__" in cls.__dict__:
        namespace["__post_init__"] = cls.__dict__["__post_init__"]
    # slotted, a class has no attribute to fall back on: its `__init__` also sets the defaults of non-init fields
    model: Any = dataclasses.dataclass(type(cls.__name__, (), namespace), frozen=spec.frozen, slots=spec.slots)
    for name in (*_METHODS, *_MADE, "__hash__") if spec.frozen else (*_METHODS, *_MADE):
        type.__setattr__(cls, name, model.__dict__[name])
    type.__setattr__(cls, "__dataclass_generated__", True)
