"""The one cattrs converter that turns decoded JSON into models.

Wire rules live here, not on the models: unknown keys are ignored (the server adds fields),
missing optional keys take the model's default, ``upload_status`` is an open enum, and primitives
are strict — by default cattrs would turn ``"12"`` into 12 and ``1.9`` into 1, hiding a server
that sends the wrong type.

Structuring runs a fast path first. Only when that fails is the input structured again with
detailed validation, to build a message that names the wire path (``$.data[3].created_at``).

The fast path is a structure function generated per model on first use, with every check inlined
(a list page is one function with one loop, not a hook call per field). It only accepts input of
the expected shape — a dict per model, a list per tuple, primitives of exactly the right type —
and hands anything else to the fast cattrs converter, whose answer (a model or an error) is then
the answer: the generated code is a shortcut for the common case, never a second set of rules.
Models whose ``__init__`` only assigns are built without calling it (see ``_mutable_twin``);
the others are constructed through ``__init__``, which runs their validators.
"""

from __future__ import annotations

import functools
import types
import typing
from collections.abc import Callable
from typing import Any, TypeVar

import attrs
import cattrs

from sfc_core._models import ImageUploadStatus, UploadStatus

T = TypeVar("T")

STRUCTURE_ERRORS: tuple[type[BaseException], ...] = (
    cattrs.BaseValidationError,
    ValueError,
    TypeError,
    KeyError,
)

_KNOWN_STATUSES = {member.value: member for member in ImageUploadStatus}


def _strict_str(value: Any, _: type) -> str:
    if type(value) is not str:
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def _strict_int(value: Any, _: type) -> int:
    if type(value) is not int:
        raise TypeError(f"expected an integer, got {type(value).__name__}")
    return value


def _strict_bool(value: Any, _: type) -> bool:
    if type(value) is not bool:
        raise TypeError(f"expected a boolean, got {type(value).__name__}")
    return value


def _upload_status(value: Any, _: type) -> UploadStatus:
    if type(value) is not str:
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return _KNOWN_STATUSES.get(value, value)


def _build(*, detailed: bool) -> cattrs.Converter:
    converter = cattrs.Converter(detailed_validation=detailed, forbid_extra_keys=False)
    converter.register_structure_hook(str, _strict_str)
    converter.register_structure_hook(int, _strict_int)
    converter.register_structure_hook(bool, _strict_bool)
    converter.register_structure_hook(UploadStatus, _upload_status)
    return converter


@functools.cache
def fast_converter() -> cattrs.Converter:
    """Built on first use, so importing an operation stays cheap."""
    return _build(detailed=False)


@functools.cache
def detailed_converter() -> cattrs.Converter:
    return _build(detailed=True)


def explain(data: Any, model: type[Any]) -> str:
    """Why ``data`` does not structure into ``model``, naming wire paths."""
    try:
        detailed_converter().structure(data, model)
    except cattrs.BaseValidationError as exc:
        return "; ".join(cattrs.transform_error(exc, path="$"))
    except STRUCTURE_ERRORS as exc:
        return str(exc)
    return "the body does not match the schema"


def structure(data: Any, model: type[T]) -> T:
    """Structure decoded JSON into ``model``; raises one of ``STRUCTURE_ERRORS``."""
    fast = _generated.get(model)
    if fast is None:
        fast = _generated[model] = _generate(model)
    result: T = fast(data)
    return result


# --- the generated fast path ----------------------------------------------------------------

_generated: dict[type[Any], Callable[[Any], Any]] = {}

# What a generated check accepts, per declared type: exactly the types the strict hooks above
# accept (``type(x) is int`` refuses ``True``, as ``_strict_int`` does).
_EXACT = (str, int, bool)


class _Unsupported(Exception):  # noqa: N818 - internal signal, never leaves this module
    """A field type the generator does not handle; the model stays with cattrs."""


def _cattrs_structure(data: Any, model: type[T]) -> T:
    return fast_converter().structure(data, model)


def _generate(model: type[T]) -> Callable[[Any], T]:
    """A structure function for ``model``, or plain cattrs when the model has a field type the
    generator does not know."""
    try:
        source, namespace = _Generator().function(model)
    except _Unsupported:
        return functools.partial(_cattrs_structure, model=model)
    code = compile(source, f"<sfc structure {model.__qualname__}>", "exec")
    exec(code, namespace)  # noqa: S102 - source built above from the model's own fields
    fn: Callable[[Any], T] = namespace["structure"]
    return fn


def _mutable_twin(model: type[Any]) -> type[Any] | None:
    """A plain class with the model's slots whose instances may become the model by assigning
    ``__class__``; ``None`` when ``__init__`` does more than assign (validators, converters,
    hooks, renamed arguments), or when the interpreter refuses the swap.

    Calling a frozen model's ``__init__`` costs a ``object.__setattr__`` call per field; setting a
    twin's slots is a plain attribute store each, which halves the cost of a list page. CPython
    allows the swap only between identical layouts, and (up to 3.12 at least) not for classes
    with a ``__weakref__`` slot, so the models that come by the hundred declare none.
    """
    if model.__bases__ != (object,) or "__slots__" not in model.__dict__:
        return None
    if hasattr(model, "__attrs_pre_init__") or hasattr(model, "__attrs_post_init__"):
        return None
    fields = attrs.fields(model)
    if set(model.__slots__) != {f.name for f in fields}:
        return None
    if not all(
        f.init and f.validator is None and f.converter is None and f.alias == f.name for f in fields
    ):
        return None
    twin = type(f"{model.__name__}Twin", (object,), {"__slots__": model.__slots__})
    try:
        twin().__class__ = model
    except TypeError:
        return None
    return twin


class _Generator:
    """Writes the source of one structure function. Every value is read into a local, checked,
    and on any surprise the function returns what cattrs makes of the whole input."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.namespace: dict[str, Any] = {
            "_statuses": _KNOWN_STATUSES,
            "_str": str,
            "_int": int,
            "_bool": bool,
            "_dict": dict,
            "_list": list,
            "_tuple": tuple,
        }
        self.counter = 0

    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def constant(self, prefix: str, value: object) -> str:
        name = self.fresh(prefix)
        self.namespace[name] = value
        return name

    def emit(self, depth: int, line: str) -> None:
        self.lines.append("    " * depth + line)

    def function(self, model: type[Any]) -> tuple[str, dict[str, Any]]:
        if not attrs.has(model):
            raise _Unsupported(model)
        self.namespace["_model"] = model
        self.namespace["_slow"] = _cattrs_structure
        self.emit(0, "def structure(data):")
        self.emit(1, "try:")
        result = self.model(model, "data", 2)
        self.emit(2, f"return {result}")
        self.emit(1, "except (KeyError, TypeError, ValueError):")
        self.emit(2, "pass")
        self.emit(1, "return _slow(data, _model)")
        return "\n".join(self.lines) + "\n", self.namespace

    def bail(self, depth: int, condition: str) -> None:
        self.emit(depth, f"if {condition}:")
        self.emit(depth + 1, "return _slow(data, _model)")

    def model(self, model: type[Any], source: str, depth: int) -> str:
        """Emit code that turns the dict in ``source`` into ``model``; return the result's name."""
        self.bail(depth, f"type({source}) is not _dict")
        hints = typing.get_type_hints(model)
        values: list[tuple[str, str]] = []
        for f in attrs.fields(model):
            local = self.fresh("v")
            if f.default is attrs.NOTHING:
                self.emit(depth, f"{local} = {source}[{f.name!r}]")
            elif isinstance(f.default, attrs.Factory):  # type: ignore[arg-type]
                raise _Unsupported(f)
            else:
                default = self.constant("d", f.default)
                self.emit(depth, f"{local} = {source}.get({f.name!r}, {default})")
            self.value(hints[f.name], local, depth)
            values.append((f.name, local))
        instance = self.fresh("o")
        cls = self.constant("C", model)
        twin = _mutable_twin(model)
        if twin is not None:
            self.emit(depth, f"{instance} = {self.constant('Twin', twin)}()")
            for name, local in values:
                self.emit(depth, f"{instance}.{name} = {local}")
            self.emit(depth, f"{instance}.__class__ = {cls}")
        else:
            arguments = ", ".join(f"{name}={local}" for name, local in values)
            self.emit(depth, f"{instance} = {cls}({arguments})")
        return instance

    def value(self, declared: Any, local: str, depth: int) -> None:
        """Emit the check (and conversion, in place) of ``local`` against ``declared``."""
        if declared in _EXACT:
            self.bail(depth, f"type({local}) is not _{declared.__name__}")
            return
        if declared == UploadStatus:
            self.bail(depth, f"type({local}) is not _str")
            self.emit(depth, f"{local} = _statuses.get({local}, {local})")
            return
        origin = typing.get_origin(declared)
        arguments = typing.get_args(declared)
        if (
            origin in (types.UnionType, typing.Union)
            and len(arguments) == 2
            and type(None) in arguments
        ):
            (inner,) = [a for a in arguments if a is not type(None)]
            if inner not in _EXACT:
                raise _Unsupported(declared)
            self.bail(depth, f"{local} is not None and type({local}) is not _{inner.__name__}")
            return
        if origin is tuple and len(arguments) == 2 and arguments[1] is Ellipsis:
            item_model = arguments[0]
            if not attrs.has(item_model):
                raise _Unsupported(declared)
            self.bail(depth, f"type({local}) is not _list")
            items, append, item = self.fresh("items"), self.fresh("append"), self.fresh("item")
            self.emit(depth, f"{items} = []")
            self.emit(depth, f"{append} = {items}.append")
            self.emit(depth, f"for {item} in {local}:")
            self.emit(depth + 1, f"{append}({self.model(item_model, item, depth + 1)})")
            self.emit(depth, f"{local} = _tuple({items})")
            return
        raise _Unsupported(declared)
