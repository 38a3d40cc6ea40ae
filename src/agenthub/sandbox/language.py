"""The language layer: RestrictedPython with an import allow-list and guarded builtins.

User code is compiled by RestrictedPython, which refuses names and attributes that start
with ``_`` and the frame, generator and code attributes of the usual object-graph escapes,
and routes attribute access, item access, iteration, writes and ``print`` through the
guards below. On top of a plain RestrictedPython setup it lets through what honest code
needs: ``async def main`` with ``await``, ``str.format`` (through a formatter that refuses
``_`` fields), and classes whose instances keep their own attributes.

Names handed to the guards are made plain ``str`` first (a subclass could override
``startswith``), every annotation is dropped at compile time (nothing can evaluate one), and
classes the code makes can be neither metaclasses nor written to.

Modules are never handed out: ``import json`` gives a fresh module object holding only the
public functions and classes of ``json``, with no module (``json.codecs``) reachable from it.
"""

from __future__ import annotations

import ast
import collections
import copy
import importlib
import operator
import string
import sys
import types
import weakref
from collections.abc import Callable, Iterable
from typing import Any

from RestrictedPython import RestrictingNodeTransformer, compile_restricted_exec, safe_builtins
from RestrictedPython.Guards import guarded_iter_unpack_sequence, guarded_unpack_sequence
from RestrictedPython.transformer import INSPECT_ATTRIBUTES, IOPERATOR_TO_STR, copy_locations

ALLOWED_MODULES = (
    "math", "statistics", "datetime", "json", "re", "decimal", "random", "itertools",
    "functools", "collections", "collections.abc", "string", "uuid", "hashlib", "base64",
    "urllib", "urllib.parse", "zoneinfo", "time",
)
# Public names that still reach outside the run: the host's MAC address (uuid1, getnode),
# a process's command line and standard input (base64.main), or time-zone files anywhere.
# Also hidden: what makes a class with any special method (``uuid.Enum``'s functional API),
# what evaluates a string annotation as unrestricted Python (``functools.singledispatch``),
# a C pointer (``datetime.datetime_CAPI``) and setting the host's clock.
HIDDEN_NAMES = {
    "uuid": {"uuid1", "getnode", "Enum"},
    "base64": {"main", "test"},
    "string": {"Formatter"},
    "zoneinfo": {"reset_tzpath"},
    "functools": {"singledispatch", "singledispatchmethod"},
    "datetime": {"datetime_CAPI"},
    "time": {"clock_settime", "clock_settime_ns"},
}
# Builtins a code step has no use for, refused by name with a clear error (not a NameError).
REFUSED_BUILTINS = (
    "open", "eval", "exec", "compile", "globals", "locals", "vars", "dir", "input", "type",
    "memoryview", "help", "exit", "quit", "breakpoint",
)
# Codecs that encode()/decode() may look up by name once the file system is closed.
PRELOADED_CODECS = (
    "encodings.ascii", "encodings.latin_1", "encodings.utf_8", "encodings.utf_16", "encodings.utf_32",
    "encodings.cp1251", "encodings.cp1252", "encodings.koi8_r", "encodings.idna", "encodings.punycode",
    "encodings.unicode_escape", "encodings.raw_unicode_escape", "encodings.hex_codec",
    "encodings.base64_codec",
)
# ``from __future__ import`` of these is dropped (annotations are stripped anyway).
FUTURE_FEATURES = frozenset(importlib.import_module("__future__").all_feature_names)
CODE_FILENAME = "<code>"
RECURSION_LIMIT = 400


class SandboxViolation(Exception):
    """The code reached for something the sandbox does not allow."""


class OutputLimitExceeded(BaseException):
    """The code printed more than its output limit (not catchable as ``Exception``)."""


class CodeTransformer(RestrictingNodeTransformer):
    """RestrictedPython's rules, with ``async def`` and ``await`` let through, and every
    annotation dropped: no library function can ever evaluate an annotation (a string under
    ``from __future__ import annotations``) as unrestricted Python."""

    def visit_FunctionDef(self, node: ast.FunctionDef) -> Any:
        _strip_annotations(node)
        return super().visit_FunctionDef(node)

    def visit_Attribute(self, node: ast.Attribute) -> Any:
        """``super().__init__``, which a class of the code's own needs, becomes
        ``_super_init_(super())``: the parent's initialiser, only from a real ``super`` object."""
        if (node.attr == "__init__" and isinstance(node.ctx, ast.Load) and isinstance(node.value, ast.Call)
                and isinstance(node.value.func, ast.Name) and node.value.func.id == "super"
                and not node.value.args and not node.value.keywords):
            guard = ast.copy_location(ast.Name("_super_init_", ast.Load()), node)
            call = ast.Call(func=guard, args=[self.visit(node.value)], keywords=[])
            return ast.copy_location(call, node)
        return super().visit_Attribute(node)

    def visit_Lambda(self, node: ast.Lambda) -> Any:
        _strip_annotations(node)
        return super().visit_Lambda(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> Any:
        """``x: T = v`` is ``x = v``; a bare ``x: T`` is nothing at all."""
        if node.value is None:
            return _located(ast.Pass(), node)
        assign = ast.Assign(targets=[node.target], value=node.value)
        copy_locations(assign, node)
        return self.visit(ast.fix_missing_locations(assign))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> Any:
        """``from __future__ import annotations`` (and the other known features, all of them
        already on or harmless) is dropped: annotations are gone anyway."""
        if node.module == "__future__" and all(
                alias.name in FUTURE_FEATURES and alias.asname is None for alias in node.names):
            return _located(ast.Pass(), node)
        return super().visit_ImportFrom(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> Any:
        _strip_annotations(node)
        self.check_name(node, node.name, allow_magic_methods=True)
        self.check_function_argument_names(node)
        with self.print_info.new_print_scope():
            node = self.node_contents_visit(node)
            self.inject_print_collector(node)  # type: ignore[arg-type]
        return node

    def visit_Await(self, node: ast.Await) -> Any:
        return self.node_contents_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> Any:
        """``self.total += x`` and ``counts[key] += 1`` (refused by plain RestrictedPython) become
        ``target = _inplacevar_(op, target, x)``, the target's read and write both guarded. Only
        for targets without side effects (names, attributes and constant or name keys)."""
        target = node.target
        if not isinstance(target, ast.Attribute | ast.Subscript) or not _plain(target):
            return super().visit_AugAssign(node)
        load = copy.deepcopy(target)
        load.ctx = ast.Load()
        value = ast.Call(func=ast.Name("_inplacevar_", ast.Load()),
                         args=[ast.Constant(IOPERATOR_TO_STR[type(node.op)]), self.visit(load),
                               self.visit(node.value)], keywords=[])
        assign = ast.Assign(targets=[self.visit(target)], value=value)
        copy_locations(assign, node)
        return ast.fix_missing_locations(assign)


def _strip_annotations(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
    arguments = node.args
    for argument in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs,
                     arguments.vararg, arguments.kwarg):
        if argument is not None:
            argument.annotation = None
    if not isinstance(node, ast.Lambda):
        node.returns = None


def _located(new: ast.stmt, old: ast.stmt) -> ast.stmt:
    copy_locations(new, old)
    return new


def _plain(node: ast.expr) -> bool:
    """A name, or attributes and constant or name subscripts of one (reading it twice is harmless)."""
    if isinstance(node, ast.Name | ast.Constant):
        return True
    if isinstance(node, ast.Attribute):
        return _plain(node.value)
    if isinstance(node, ast.Subscript):
        return _plain(node.value) and isinstance(node.slice, ast.Name | ast.Constant)
    return False


def preload() -> None:
    """Import what runs will need, while the file system is still open (in the fork server)."""
    for name in (*ALLOWED_MODULES, *PRELOADED_CODECS, "_strptime"):
        importlib.import_module(name)
    # The first strptime/strftime and time-zone lookups import and read lazily: do it now.
    import datetime
    import zoneinfo

    datetime.datetime.strptime("2026-01-01", "%Y-%m-%d").strftime("%c")
    zoneinfo.ZoneInfo("UTC")
    for name in ALLOWED_MODULES:
        _safe_module(name)


def compile_code(source: str) -> tuple[types.CodeType | None, list[str]]:
    """The code object, or None and the errors RestrictedPython gives (with their lines)."""
    result = compile_restricted_exec(source, filename=CODE_FILENAME, policy=CodeTransformer)
    return result.code, list(result.errors)


class Printed:
    """Everything the run prints, up to its output limit."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.parts: list[str] = []
        self.size = 0
        self.exceeded = False

    def write(self, text: str) -> None:
        self.size += len(text.encode("utf-8", "replace"))
        if self.size > self.limit:
            self.exceeded = True
            raise OutputLimitExceeded()
        self.parts.append(text)

    def text(self) -> str:
        return "".join(self.parts)


def run_globals(printed: Printed) -> dict[str, Any]:
    """The globals of one run: guarded builtins and the hooks RestrictedPython compiles to."""
    user_classes: weakref.WeakSet[type] = weakref.WeakSet()

    def make_class(name: str, bases: tuple[type, ...], namespace: dict[str, Any]) -> type:
        # A subclass of ``type`` would make classes from a dict of any special methods.
        if any(isinstance(base, type) and issubclass(base, type) for base in bases):
            raise SandboxViolation("a class cannot derive from type in a code step")
        cls = type(name, bases, namespace)
        user_classes.add(cls)
        return cls

    def write_guard(obj: Any) -> Any:
        if isinstance(obj, type):
            raise SandboxViolation(f"cannot change attributes of the class {obj.__name__}")
        if isinstance(obj, dict | list | set | bytearray) or type(obj) in user_classes:
            return obj
        raise SandboxViolation(f"cannot change attributes of a {type(obj).__name__}")

    class PrintTo:
        def __init__(self, _getattr_: Any = None) -> None:
            pass

        def _call_print(self, *objects: Any, sep: str | None = " ", end: str | None = "\n",
                        file: Any = None, flush: bool = False) -> None:
            if file is not None:
                raise SandboxViolation("print() writes to the run's output only")
            # Plain strings only: a str subclass could override join or encode.
            sep = " " if sep is None else _plain_str(sep, "sep must be None or a string")
            end = "\n" if end is None else _plain_str(end, "end must be None or a string")
            printed.write(str.join(sep, [str.__str__(str(item)) for item in objects]) + end)

    builtins = dict(safe_builtins)
    builtins.update(
        __import__=guarded_import, getattr=guarded_getattr, hasattr=guarded_hasattr,
        dict=dict, list=list, set=set, frozenset=frozenset, tuple=tuple, bytearray=bytearray,
        min=min, max=max, sum=sum, enumerate=enumerate, map=map, filter=filter, any=any, all=all,
        reversed=reversed, sorted=sorted, zip=zip, iter=iter, next=next, format=format,
        classmethod=classmethod, staticmethod=staticmethod, property=property, super=super,
        object=object, bin=bin, ascii=ascii, bytes=bytes,
        setattr=lambda obj, name, value: setattr(write_guard(obj), _settable(name), value),
        delattr=lambda obj, name: delattr(write_guard(obj), _settable(name)),
    )
    builtins.update({name: _refused(name) for name in REFUSED_BUILTINS})
    return {
        "__builtins__": builtins,
        "__name__": "code",
        "__metaclass__": make_class,
        "_getattr_": guarded_getattr,
        "_getitem_": operator.getitem,
        "_getiter_": iter,
        "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
        "_unpack_sequence_": guarded_unpack_sequence,
        "_write_": write_guard,
        "_inplacevar_": inplace,
        "_super_init_": super_init,
        "_apply_": lambda function, *args, **kwargs: function(*args, **kwargs),
        "_print_": PrintTo,
    }


_MODULES: dict[str, types.ModuleType] = {}


def guarded_import(name: str, globals: Any = None, locals: Any = None,
                   fromlist: Iterable[str] | None = (), level: int = 0) -> types.ModuleType:
    if level != 0:
        raise SandboxViolation("relative imports are not allowed in a code step")
    if name not in ALLOWED_MODULES:
        raise SandboxViolation(f"import of {name!r} is not allowed; allowed: {', '.join(_top_level())}")
    if not _MODULES:
        preload()
    if fromlist:
        module = _MODULES[name]
        for item in fromlist:
            # ``from json import decoder`` would otherwise find ``json.decoder`` in sys.modules.
            if not isinstance(item, str) or not hasattr(module, item):
                if f"{name}.{item}" in sys.modules:
                    raise SandboxViolation(f"import of '{name}.{item}' is not allowed")
                raise ImportError(f"cannot import name {item!r} from {name!r}")
        return module
    return _MODULES[name.split(".", 1)[0]]


def _top_level() -> list[str]:
    return sorted({name for name in ALLOWED_MODULES if name != "urllib"})


def _safe_module(name: str) -> types.ModuleType:
    """A module object with the public, non-module names of ``name`` (allowed submodules too)."""
    if name in _MODULES:
        return _MODULES[name]
    real = sys.modules[name]
    safe = types.ModuleType(name, real.__doc__)
    hidden = HIDDEN_NAMES.get(name, set())
    for attribute, value in vars(real).items():
        if attribute.startswith("_") or attribute in hidden:
            continue
        if isinstance(value, types.ModuleType):
            full = f"{name}.{attribute}"
            if full in ALLOWED_MODULES:
                setattr(safe, attribute, _safe_module(full))
            continue
        setattr(safe, attribute, value)
    for attribute, value in _REPLACED.get(name, {}).items():
        setattr(safe, attribute, value)
    _MODULES[name] = safe
    return safe


def _plain_str(text: Any, message: str = "attribute name must be a string") -> str:
    """``text`` as a plain ``str``: a subclass could override ``startswith``, ``__eq__``..."""
    if not isinstance(text, str):
        raise TypeError(message)
    return str.__str__(text)


def _settable(name: Any) -> str:
    name = _plain_str(name)
    if name.startswith("_"):
        raise SandboxViolation(f"the attribute {name!r} is not allowed")
    return name


def _refused(name: str) -> Callable[..., Any]:
    def refused(*args: Any, **kwargs: Any) -> Any:
        raise SandboxViolation(f"{name}() is not available in a code step")

    return refused


_WRAPPER_ASSIGNMENTS = ("__module__", "__name__", "__qualname__", "__doc__")


def _update_wrapper(wrapper: Any, wrapped: Any, assigned: Any = None, updated: Any = None) -> Any:
    """``functools.update_wrapper`` for the code's own functions, copying only their names
    and doc (the real one copies any attribute it is told to, ``__globals__`` included)."""
    if assigned is not None or updated is not None:
        raise SandboxViolation("functools.update_wrapper and wraps take no assigned or updated here")
    if not (isinstance(wrapper, types.FunctionType) and wrapper.__code__.co_filename == CODE_FILENAME):
        raise SandboxViolation("functools.wraps wraps the code's own functions only")
    for attribute in _WRAPPER_ASSIGNMENTS:
        value = getattr(wrapped, attribute, None)
        if isinstance(value, str):
            setattr(wrapper, attribute, value)
    wrapper.__wrapped__ = wrapped  # type: ignore[attr-defined]
    return wrapper


def _wraps(wrapped: Any, assigned: Any = None, updated: Any = None) -> Callable[[Any], Any]:
    if assigned is not None or updated is not None:
        raise SandboxViolation("functools.update_wrapper and wraps take no assigned or updated here")

    def decorator(wrapper: Any) -> Any:
        return _update_wrapper(wrapper, wrapped)

    return decorator


_REAL_USER_STRING = collections.UserString


class _UserString(collections.UserString):
    """``collections.UserString`` whose ``format`` is the safe one (the real one is ``str.format``)."""

    def format(self, /, *args: Any, **kwargs: Any) -> str:
        return _FORMATTER.vformat(self.data, args, kwargs)

    def format_map(self, mapping: Any) -> str:
        return _FORMATTER.vformat(self.data, (), mapping)


_UserString.__name__ = _UserString.__qualname__ = "UserString"

_REPLACED: dict[str, dict[str, Any]] = {
    "functools": {"update_wrapper": _update_wrapper, "wraps": _wraps},
    "collections": {"UserString": _UserString},
}


class SafeFormatter(string.Formatter):
    """``str.format`` whose fields cannot reach ``_`` attributes or inspection attributes."""

    def get_field(self, field_name: str, args: Any, kwargs: Any) -> Any:
        first, rest = _formatter_field_name_split(field_name)
        obj = self.get_value(first, args, kwargs)
        for is_attribute, key in rest:
            obj = guarded_getattr(obj, key) if is_attribute else obj[key]
        return obj, first


def _formatter_field_name_split(field_name: str) -> tuple[Any, Iterable[tuple[bool, Any]]]:
    from _string import formatter_field_name_split  # type: ignore[import-not-found]  # str.format's own parser

    return formatter_field_name_split(field_name)  # type: ignore[no-any-return]


_FORMATTER = SafeFormatter()


def _safe_format(template: str) -> Callable[..., str]:
    def format(*args: Any, **kwargs: Any) -> str:
        return _FORMATTER.vformat(template, args, kwargs)

    return format


def _safe_format_map(template: str) -> Callable[[Any], str]:
    def format_map(mapping: Any) -> str:
        return _FORMATTER.vformat(template, (), mapping)

    return format_map


def _str_format(template: str, *args: Any, **kwargs: Any) -> str:
    return _FORMATTER.vformat(template, args, kwargs)


def _str_format_map(template: str, mapping: Any) -> str:
    return _FORMATTER.vformat(template, (), mapping)


_MISSING = object()


def guarded_getattr(obj: Any, name: str, default: Any = _MISSING) -> Any:
    name = _plain_str(name)
    if name.startswith("_") or name in INSPECT_ATTRIBUTES:
        raise SandboxViolation(f"the attribute {name!r} is not allowed")
    if name == "obj" and isinstance(obj, AttributeError):
        # The object whose attribute was missing: from inside a library, one of its internals.
        raise SandboxViolation("the attribute 'obj' of an AttributeError is not allowed")
    if name in ("format", "format_map"):
        if isinstance(obj, str):
            return _safe_format(obj) if name == "format" else _safe_format_map(obj)
        if isinstance(obj, type) and issubclass(obj, str):
            return _str_format if name == "format" else _str_format_map
    if isinstance(obj, types.ModuleType) and not any(obj is safe for safe in _MODULES.values()):
        raise SandboxViolation("modules are reached by import only")
    if isinstance(obj, string.Formatter) or (isinstance(obj, type) and issubclass(obj, string.Formatter)):
        raise SandboxViolation("string.Formatter is not allowed; use str.format")
    value = getattr(obj, name) if default is _MISSING else getattr(obj, name, default)
    if name in ("format", "format_map"):
        return _no_str_format(value, name)
    return value


def _no_str_format(value: Any, name: str) -> Any:
    """The safe ``format`` for a ``str.format`` reached another way (``super().format``), and
    for the real ``UserString.format`` (``super(UserString, u).format``, ``UserString.mro()``)."""
    if value is str.format or value is str.format_map:
        return _str_format if name == "format" else _str_format_map
    bound_to = getattr(value, "__self__", None)
    if isinstance(value, types.BuiltinMethodType) and isinstance(bound_to, str):
        return _safe_format(bound_to) if name == "format" else _safe_format_map(bound_to)
    function = value.__func__ if isinstance(value, types.MethodType) else value
    if function is _REAL_USER_STRING.format or function is _REAL_USER_STRING.format_map:
        safe = _UserString.format if name == "format" else _UserString.format_map
        return types.MethodType(safe, bound_to) if isinstance(value, types.MethodType) else safe
    return value


def guarded_hasattr(obj: Any, name: str) -> bool:
    try:
        guarded_getattr(obj, name)
    except (AttributeError, SandboxViolation):
        return False
    return True


_INPLACE = {
    "+=": operator.iadd, "-=": operator.isub, "*=": operator.imul, "/=": operator.itruediv,
    "//=": operator.ifloordiv, "%=": operator.imod, "**=": operator.ipow, "<<=": operator.ilshift,
    ">>=": operator.irshift, "&=": operator.iand, "|=": operator.ior, "^=": operator.ixor,
    "@=": operator.imatmul,
}


def inplace(op: str, target: Any, value: Any) -> Any:
    return _INPLACE[op](target, value)


def super_init(proxy: Any) -> Any:
    """``super().__init__`` of a class of the code's own (see ``CodeTransformer.visit_Attribute``)."""
    if type(proxy) is not super:
        raise SandboxViolation("only super().__init__ may name __init__")
    return proxy.__init__  # type: ignore[misc]
