"""The interpreter's values, its bounds, and the interface a framework plugs in through.

Python's own scalars, tuples, lists, dicts, slices and ranges stand for themselves (they are
made by the interpreter from literals and arithmetic, never by evaluating the text). The
classes here stand for what the file defines (functions, classes, instances), for what it
imports (:class:`Namespace`: a dotted name and nothing else), and for what cnncalc itself
supplies (:class:`Native`). A framework's own objects (a layer, a tensor) derive from
:class:`Opaque`; the interpreter hands every operation on them to the :class:`Framework`.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from cnncalc.parse.pycode import Columns, Refusal, refuse
from cnncalc.spec import Span

if TYPE_CHECKING:
    from cnncalc.parse.code.interp import Interp

Value = Any
"""Any value of the interpreter: int, float, bool, str, None, tuple, list, dict, slice,
range, or an instance of one of the classes below."""

Node = ast.AST


class Limits:
    """How much work one file may ask for; each bound, when hit, is one P022 at the construct
    that hit it. ``steps`` counts statements and calls across the whole run."""

    iterations = 10_000  # of one loop, or items of one comprehension
    depth = 40  # calls in progress at once (a model's own nesting is rarely over 10)
    nesting = 60  # expressions inside expressions
    items = 100_000  # elements of one list, tuple, dict or range that is listed
    steps = 200_000  # ResNet-152 takes 2,000
    digits = 30  # an int of more digits (above 10**30) is not followed
    text = 10_000  # characters of a string the code builds


class Source:
    """The file being read: its path and rows, to turn a node's position into a Span."""

    def __init__(self, path: str, rows: Sequence[str]) -> None:
        self.path, self.rows = path, rows
        self.columns = Columns(rows)

    def span(self, node: Node) -> Span:
        line = getattr(node, "lineno", 1)
        if 0 < line <= len(self.rows) and getattr(node, "end_lineno", 0) == line:
            text = self.rows[line - 1]
            if text.isascii():  # nearly every line: a byte offset is a column
                col = min(node.col_offset, len(text)) + 1  # type: ignore[attr-defined]
                end = min(node.end_col_offset or 0, len(text)) + 1  # type: ignore[attr-defined]
                return Span(self.path, line, col, max(end, col + 1))
        row = min(max(line - 1, 0), max(len(self.rows) - 1, 0))
        if not self.rows:
            return Span(self.path, 1, 1, 2)
        col = self.columns.col(row, getattr(node, "col_offset", 0)) + 1
        if getattr(node, "end_lineno", line) == line:
            end = self.columns.col(row, getattr(node, "end_col_offset", 0) or 0) + 1
        else:
            end = len(self.rows[row]) + 1
        return Span(self.path, line, col, max(end, col + 1))


class Stop(Refusal):
    """Interpretation stops here; ``diag`` None when the cause is already reported (a layer
    whose volume the analysis will refuse)."""


def not_followed(src: Source, node: Node, what: str, hint: str = "") -> Stop:
    """P021: ``what`` (``a `while` loop``) is something cnncalc does not follow."""
    r = refuse(src.span(node), "P021", f"{what}: cnncalc reads model code without running it "
               "and does not follow this", hint or "write the model with the constructs the "
               "README lists for model code")
    return Stop(r.diag)


def over_limit(src: Source, node: Node, what: str) -> Stop:
    """P022: a bound of :class:`Limits` was hit at ``node``."""
    r = refuse(src.span(node), "P022", f"{what}: cnncalc stops following the code here",
               "model code that builds a network needs far less; check for a loop or a "
               "recursion that does not end")
    return Stop(r.diag)


class Func:
    """A function or method of the file: its definition, defaults (evaluated where it was
    defined, as Python does), and the scopes it sees."""

    __slots__ = ("defaults", "kw_defaults", "node", "owner", "scopes", "static")

    def __init__(self, node: ast.FunctionDef, defaults: list[Value],
                 kw_defaults: list[Value | None], scopes: tuple[dict[str, Value], ...],
                 static: bool = False) -> None:
        self.node, self.defaults, self.kw_defaults = node, defaults, kw_defaults
        self.scopes, self.static = scopes, static
        self.owner: Class | None = None  # the class whose body defines it

    @property
    def name(self) -> str:
        return self.node.name


class Bound:
    """A method with its ``self``."""

    __slots__ = ("func", "obj")

    def __init__(self, func: Func, obj: Value) -> None:
        self.func, self.obj = func, obj


class Class:
    """A class of the file: its bases (classes of the file, or imported :class:`Namespace`
    names) and the names its body binds (methods, class attributes such as ``expansion``)."""

    def __init__(self, name: str, bases: list[Value], attrs: dict[str, Value]) -> None:
        self.name, self.bases, self.attrs = name, bases, attrs
        self._mro: list[Value] | None = None
        self._framework: list[str] | None = None

    def mro(self) -> list[Value]:
        """Itself, then its bases depth first, left to right, each once (Python's C3 order
        for the single and simple multiple inheritance model code uses). A class's bases
        never change: worked out once."""
        if self._mro is None:
            self._mro = self._linear()
        return self._mro

    def _linear(self) -> list[Value]:
        seen: list[Value] = []
        todo: list[Value] = [self]
        while todo:
            c = todo.pop(0)
            if any(c is s for s in seen):
                continue
            seen.append(c)
            if isinstance(c, Class):
                todo[0:0] = c.bases
        return seen

    def lookup(self, name: str) -> tuple[Value, Class] | None:
        for c in self.mro():
            if isinstance(c, Class) and name in c.attrs:
                return c.attrs[name], c
        return None

    def framework_bases(self) -> list[str]:
        if self._framework is None:
            self._framework = [c.name for c in self.mro() if isinstance(c, Namespace)]
        return self._framework


class Instance:
    """An instance of a class of the file: its attributes in the order they were set, and a
    slot for what its framework keeps about it."""

    def __init__(self, cls: Class) -> None:
        self.cls = cls
        self.attrs: dict[str, Value] = {}
        self.native: Any = None


class Namespace:
    """An imported name (``torch.nn``, ``torch.nn.Conv2d``, ``os.system``): a dotted name and
    nothing else. Its attributes are longer names; calling one asks the framework."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    @property
    def short(self) -> str:
        return self.name.rsplit(".", 1)[-1]


class Native:
    """A function cnncalc supplies (``range``, ``len``, ``list.append``, a tensor's ``view``):
    ``fn(interp, args, kwargs, node)``."""

    __slots__ = ("fn", "name")

    def __init__(self, name: str, fn: Callable[[Interp, list[Value], dict[str, Value], Node],
                                               Value]) -> None:
        self.name, self.fn = name, fn


class Poison:
    """A name whose value could not be worked out (``device = torch.device("cuda")`` at the top
    of the file): harmless until used, when its refusal is reported."""

    __slots__ = ("stop",)

    def __init__(self, stop: Stop) -> None:
        self.stop = stop


class Opaque:
    """Base of a framework's own values: layers, containers, symbolic tensors."""

    what = "a framework object"


class Framework(Protocol):
    """What a framework tells the interpreter. Each method either returns a value or raises
    :class:`Stop` (usually :func:`not_followed`) at ``node``."""

    def is_base(self, name: str) -> bool:
        """Whether a class of the file that derives from the imported class ``name``
        (``torch.nn.Module``, ``keras.Model``) is a model class."""
        ...

    def is_instance(self, obj: Value, name: str) -> bool | None:
        """``isinstance(obj, name)`` for the framework's class ``name``; None when ``name``
        is not one of its classes."""
        ...

    def call_name(self, it: Interp, name: str, args: list[Value], kwargs: dict[str, Value],
                  node: Node) -> Value:
        """A call of the imported name ``name`` (``torch.nn.Conv2d``, ``torch.cat``)."""
        ...

    def new_instance(self, it: Interp, inst: Instance) -> None:
        """An instance of a model class is being made (before its ``__init__`` runs)."""
        ...

    def base_init(self, it: Interp, inst: Instance, base: str, args: list[Value],
                  kwargs: dict[str, Value], node: Node) -> None:
        """``super().__init__(...)`` reached the framework's class ``base``."""
        ...

    def set_attr(self, it: Interp, inst: Instance, name: str, value: Value) -> None:
        """``self.name = value`` on an instance of a model class."""
        ...

    def get_attr(self, it: Interp, obj: Value, name: str, node: Node) -> Value:
        """An attribute of a framework object, or one an instance of a model class has not
        set (``self.training``)."""
        ...

    def call_object(self, it: Interp, obj: Value, args: list[Value], kwargs: dict[str, Value],
                    node: Node) -> Value:
        """Calling a framework object, or an instance of a model class (its forward())."""
        ...

    def operator(self, it: Interp, op: str, left: Value, right: Value, node: Node) -> Value:
        """``left op right`` where one side is a framework object (``+``, ``*``)."""
        ...

    def subscript(self, it: Interp, obj: Value, index: Value, node: Node) -> Value:
        """``obj[index]`` of a framework object (a tensor's slice, a container's child)."""
        ...

    def items(self, it: Interp, obj: Value, node: Node) -> list[Value]:
        """What iterating over a framework object gives (a ModuleList's modules)."""
        ...


def describe(v: Value) -> str:
    """What a value is, for messages."""
    if isinstance(v, bool) or v is None:
        return f"`{v}`"
    if isinstance(v, Opaque):
        return v.what
    if isinstance(v, Instance):
        return f"an instance of `{v.cls.name}`"
    if isinstance(v, Class):
        return f"the class `{v.name}`"
    if isinstance(v, Func | Bound):
        return f"the function `{(v.func if isinstance(v, Bound) else v).name}`"
    if isinstance(v, Namespace):
        return f"`{v.name}`"
    if isinstance(v, Native):
        return f"`{v.name}`"
    return {int: "a number", float: "a number", str: "a string", tuple: "a tuple",
            list: "a list", dict: "a dict", range: "a range"}.get(type(v), "a value")
