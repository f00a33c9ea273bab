"""PyTorch front end: what ``print(model)`` shows, or ``nn.Conv2d(...)`` constructor calls.

    AlexNet(
      (features): Sequential(
        (0): Conv2d(3, 64, kernel_size=(11, 11), stride=(4, 4), padding=(2, 2))

Containers (``Sequential(``, ``ModuleList(``, a custom class whose ``(`` ends its line) are
flattened in order and layers are named by their dotted path (``features.0``), as
``named_modules()`` names them; ``(0-2): 3 x Linear(...)`` is three layers. Constructor code
(``nn.Conv2d(3, 64, 3),`` one a line, bare, after ``self.conv1 =`` or inside ``nn.Sequential(``)
is read the same way. Arguments go through ``ast`` and are never evaluated: only literals,
names bound by ``--define`` and integer ``+ - * //`` are read; calls, attributes, lambdas and
f-strings are P009. The printed form leaves ``padding=same`` and ``padding_mode=reflect``
unquoted, so those bare words stand for themselves. PyTorch floors sizes (``rounding="floor"``;
ceil-mode pools round up). The printed model has no input size: pass ``--input`` or write
``# cnncalc: input 224x224x3``. ``AvgPool2d`` does not print its ``ceil_mode``.
"""

from __future__ import annotations

import ast
import bisect
import itertools
import re
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from cnncalc import spec
from cnncalc.diagnostics import Diagnostic
from cnncalc.parse import DefineValue
from cnncalc.parse.cursor import suggest
from cnncalc.parse.directives import find_input
from cnncalc.spec import Layer, Padding, Pair, Span, Spec, Unparsed

Value = int | float | str | None | tuple["Value", ...]
Built = tuple[type[Layer], dict[str, Any]]

_FIELD = {"out_channels": "filters", "kernel_size": "kernel", "padding": "pad",
          "out_features": "units", "output_size": "output"}
_AS_TEXT = {"padding_mode", "approximate", "device", "dtype"}  # bare words mean themselves
_CONTAINERS = {"Sequential", "ModuleList", "ModuleDict"}


class _Fail(Exception):
    def __init__(self, span: Span, code: str, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.diag = Diagnostic(span, code, message, hint)


class _Args:
    """One call's arguments by parameter name, their spans, and typed getters that fail with
    P010 pointing at the argument."""

    def __init__(self, module: str, span: Span) -> None:
        self.module, self.span = module, span
        self.values: dict[str, Value] = {}
        self.spans: dict[str, Span] = {}

    def bad(self, name: str, message: str, hint: str = "", code: str = "P010") -> _Fail:
        return _Fail(self.spans.get(name, self.span), code, f"{self.module}: {message}", hint)

    def int(self, name: str, default: int | None = None) -> int:
        v = self.values.get(name, default)
        if isinstance(v, bool) or not isinstance(v, int):
            raise self.bad(name, f"{name}={v!r} is not a whole number")
        return v

    def pair(self, name: str, default: Pair | None = None) -> Pair:
        v = self.values.get(name, default)
        if isinstance(v, int) and not isinstance(v, bool):
            return (v, v)
        if isinstance(v, tuple) and len(v) == 2 and all(type(x) is int for x in v):
            return (int(v[0]), int(v[1]))  # type: ignore[arg-type]
        raise self.bad(name, f"{name}={v!r} is not a whole number or a pair of them",
                       f"write {name}=3 or {name}=(3, 3)")

    def flag(self, name: str, default: bool) -> bool:
        v = self.values.get(name, default)
        if not isinstance(v, bool):
            raise self.bad(name, f"{name}={v!r} is not True or False")
        return v


def _conv(a: _Args) -> Built:
    transposed = a.module == "ConvTranspose2d"
    kw: dict[str, Any] = dict(
        in_channels=a.int("in_channels"), filters=a.int("out_channels"),
        kernel=a.pair("kernel_size"), stride=a.pair("stride", (1, 1)),
        dilation=a.pair("dilation", (1, 1)), groups=a.int("groups", 1), bias=a.flag("bias", True))
    pad = a.values.get("padding", 0)
    if pad in ("same", "valid") and not transposed:
        if pad == "same" and kw["stride"] != (1, 1):
            raise a.bad("padding", "padding='same' is not supported for strided convolutions",
                        "PyTorch refuses it too: give the padding as a number")
        kw["padding"] = Padding.same() if pad == "same" else Padding()
    elif isinstance(pad, str):
        raise a.bad("padding", f"padding={pad!r} is not a padding {a.module} takes",
                    "write a number, a pair" + ("" if transposed else ", 'same' or 'valid'"))
    else:
        kw["padding"] = Padding.symmetric(*a.pair("padding", (0, 0)))
    if transposed:
        kw.update(transposed=True, output_padding=a.pair("output_padding", (0, 0)))
    return spec.Conv, kw


def _pool(a: _Args) -> Built:
    kernel = a.pair("kernel_size")
    stride = kernel if a.values.get("stride") is None else a.pair("stride")
    pad = a.pair("padding", (0, 0))
    if any(k >= 1 and p > k // 2 for k, p in zip(kernel, pad, strict=True)):
        raise a.bad("padding", f"padding {pad[0]} is more than half the {kernel[0]}x{kernel[1]} "
                    "window", "PyTorch refuses it: pad should be at most half of kernel size")
    return spec.Pool, dict(op="max" if a.module == "MaxPool2d" else "avg", kernel=kernel,
                      stride=stride, padding=Padding.symmetric(*pad),
                      dilation=a.pair("dilation", (1, 1)), ceil_mode=a.flag("ceil_mode", False))


def _adaptive(a: _Args) -> Built:
    out = a.values.get("output_size")
    if out is None or (isinstance(out, tuple) and None in out):
        raise a.bad("output_size", "output_size None keeps the input's size there",
                    "cnncalc needs both output sizes: write them as numbers", "P011")
    return spec.AdaptivePool, dict(op="max" if "Max" in a.module else "avg",
                              output=a.pair("output_size"))


def _flatten(a: _Args) -> Built:
    if a.values.get("start_dim", 1) != 1 or a.values.get("end_dim", -1) != -1:
        raise a.bad("start_dim", "only start_dim=1, end_dim=-1 is modelled",
                    "cnncalc flattens everything but the batch", "P011")
    return spec.Flatten, {}


def _zeropad(a: _Args) -> Built:
    v = a.values.get("padding")
    if isinstance(v, tuple) and len(v) == 4 and all(type(x) is int for x in v):
        left, right, top, bottom = (int(x) for x in v)  # type: ignore[arg-type]
        return spec.ZeroPad, dict(padding=Padding("explicit", (top, bottom), (left, right)))
    return spec.ZeroPad, dict(padding=Padding.symmetric(a.int("padding"), a.int("padding")))


def _dropout(a: _Args) -> Built:
    p = a.values.get("p", 0.5)
    if isinstance(p, bool) or not isinstance(p, int | float):
        raise a.bad("p", f"p={p!r} is not a number")
    return spec.Dropout, dict(p=float(p))


_ACTIVATIONS = {"ReLU": "inplace", "ReLU6": "inplace", "LeakyReLU": "negative_slope inplace",
                "ELU": "alpha inplace", "GELU": "approximate", "SiLU": "inplace", "Sigmoid": "",
                "Tanh": "", "Hardswish": "inplace", "Hardsigmoid": "inplace", "Softmax": "dim",
                "LogSoftmax": "dim", "Identity": "*"}
_CONV = "in_channels out_channels kernel_size stride padding "
# module -> (positional parameters [| keyword-only ones], how many are required, builder);
# parameters "*": anything is accepted (Identity)
_MODULES: dict[str, tuple[str, int, Callable[[_Args], Built]]] = {
    "Conv2d": (_CONV + "dilation groups bias padding_mode device dtype", 3, _conv),
    "ConvTranspose2d": (_CONV + "output_padding groups bias dilation padding_mode device dtype",
                        3, _conv),
    "MaxPool2d": ("kernel_size stride padding dilation return_indices ceil_mode", 1, _pool),
    "AvgPool2d": ("kernel_size stride padding ceil_mode count_include_pad divisor_override", 1,
                  _pool),
    "AdaptiveAvgPool2d": ("output_size", 1, _adaptive),
    "AdaptiveMaxPool2d": ("output_size return_indices", 1, _adaptive),
    "BatchNorm2d": ("num_features eps momentum affine track_running_stats device dtype | bias", 1,
                    lambda a: (spec.BatchNorm, dict(
                        num_features=a.int("num_features"), scale=a.flag("affine", True),
                        center=a.flag("affine", True) and a.flag("bias", True),
                        running_stats=a.flag("track_running_stats", True)))),
    "LocalResponseNorm": ("size alpha beta k", 1, lambda a: (spec.LRN, {})),
    "Linear": ("in_features out_features bias device dtype", 2, lambda a: (spec.Dense, dict(
        in_features=a.int("in_features"), units=a.int("out_features"),
        bias=a.flag("bias", True)))),
    "Dropout": ("p inplace", 0, _dropout),
    "Dropout2d": ("p inplace", 0, _dropout),
    "Flatten": ("start_dim end_dim", 0, _flatten),
    "ZeroPad2d": ("padding", 1, _zeropad),
    **{m: (params, 0, lambda a: (spec.Activation, dict(fn=a.module.lower())))
       for m, params in _ACTIVATIONS.items()},
}

_MAX_LAYERS = 100_000  # what a repeated block may expand to
_LABEL = re.compile(r"\(([^()\n]*)\):[ \t]*")
_REPEAT = re.compile(r"(\d+)[ \t]*x[ \t]+")
_TARGET = re.compile(r"([A-Za-z_][\w.]*)[ \t]*=(?!=)[ \t]*")
_HEAD = re.compile(r"((?:[A-Za-z_]\w*[ \t]*\.[ \t]*)*)([A-Za-z_]\w*)[ \t]*\(")
_IMPORT = re.compile(r"[ \t]*(?:import|from)\s")
_ITEM_START = re.compile(r"\s*(?:\([^()\n]*\):|(?:[A-Za-z_]\w*\.)*(?:"
                         + "|".join(sorted(_MODULES.keys() | _CONTAINERS)) + r")\s*\()")
_NOT_LITERAL = {ast.Call: "a call", ast.Attribute: "attribute access", ast.Lambda: "a lambda",
                ast.JoinedStr: "an f-string", ast.Subscript: "indexing"}
_OPS: dict[type[ast.operator], Callable[[int, int], int]] = {
    ast.Add: lambda x, y: x + y, ast.Sub: lambda x, y: x - y, ast.Mult: lambda x, y: x * y,
    ast.FloorDiv: lambda x, y: x // y if y else 1 << 64}


def _mask(line: str) -> str:
    """The line with its ``#`` comment (outside quotes) blanked, columns kept."""
    quote = ""
    for i, ch in enumerate(line):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#":
            return line[:i] + " " * (len(line) - i)
    return line


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


@dataclass
class _Box:
    """An open container: its path component, its names when repeated, where its layers start,
    its line and indentation, whether its ``(`` ends the line, and its children so far."""

    module: str
    path: str | None
    names: list[str]
    first: int
    line: int
    indent: int
    line_ending: bool
    count: int = 0


class _Reader:
    def __init__(self, text: str, path: str, defines: Mapping[str, DefineValue]) -> None:
        self.path, self.defines = path, defines
        self.lines = text.splitlines()
        self.src = "\n".join(_mask(line) for line in self.lines)
        self.starts = [0, *itertools.accumulate(len(line) + 1 for line in self.lines[:-1])]
        self.layers: list[Layer] = []
        self.diags: list[Diagnostic] = []
        self.stack = [_Box("", None, [], 0, 0, -1, False)]  # the root stays at the bottom

    def at(self, off: int) -> tuple[int, int]:
        """1-based (line, column) of an offset into the source."""
        i = bisect.bisect_right(self.starts, off) - 1
        return i + 1, off - self.starts[i] + 1

    def span(self, start: int, end: int) -> Span:
        """A one-line span; one that crosses lines stops at the end of its first line."""
        (line, col), (end_line, end_col) = self.at(start), self.at(end)
        if end_line != line:
            end_col = len(self.lines[line - 1].rstrip()) + 1
        return Span(self.path, line, col, max(end_col, col + 1))

    def eol(self, off: int) -> int:
        end = self.src.find("\n", off)
        return len(self.src) if end < 0 else end

    def fail(self, code: str, start: int, end: int, message: str, hint: str = "") -> None:
        self.diags.append(Diagnostic(self.span(start, end), code, message, hint))

    def prefix(self) -> str:
        return "".join(f"{b.path}." for b in self.stack if b.path is not None)

    def next_names(self, label: str | None, repeat: int) -> list[str]:
        """Names of the next child (or its ``repeat`` copies) of the innermost container."""
        box, pre = self.stack[-1], self.prefix()
        index, box.count = box.count, box.count + repeat
        if repeat > 1 and label is not None and (m := re.fullmatch(r"(\d+)-(\d+)", label)):
            index, label = int(m[1]), None
        if label is None:
            return [f"{pre}{index + i}" for i in range(repeat)]
        return [f"{pre}{label}"] if repeat == 1 else [f"{pre}{label}[{i}]" for i in range(repeat)]

    def run(self) -> None:
        pos = 0
        while pos < len(self.src):
            ch = self.src[pos]
            if ch in " \t\n,;[]":
                pos += 1
            elif ch == ")":
                pos = self.close(pos)
            elif _IMPORT.match(self.src, self.starts[self.at(pos)[0] - 1]):
                pos = self.eol(pos)
            else:
                pos = self.item(pos)
        for box in reversed(self.stack[1:]):
            start = self.starts[box.line - 1]
            self.fail("P001", start, self.eol(start), f"`{box.module}(` is never closed",
                      "add the `)` that ends it, at the indentation of this line")

    def close(self, pos: int) -> int:
        line, col = self.at(pos)
        box = self.stack[-1]
        if len(self.stack) == 1:
            self.fail("P001", pos, pos + 1, "a `)` with no `(` to close",
                      "remove it, or add the module it was meant to end")
            return pos + 1
        if col > _indent(self.lines[line - 1]) + 1 and box.line_ending:
            later = [ln for ln in self.lines[line:] if ln.strip()]
            if later and _indent(later[0]) > box.indent:
                self.fail("P001", pos, pos + 1,
                          f"one `)` too many: `{box.module}(` of line {box.line} goes on below",
                          "remove this `)`")
                return pos + 1
        self.pop()
        return pos + 1

    def pop(self) -> None:
        box = self.stack.pop()
        block, old = self.layers[box.first:], f"{box.names[0]}." if box.names else ""
        if len(box.names) * len(block) > _MAX_LAYERS:
            line = self.starts[box.line - 1]
            self.fail("P011", line, self.eol(line), f"{len(box.names)} x {len(block)} layers "
                      f"are more than the {_MAX_LAYERS} cnncalc expands")
        elif len(box.names) > 1:  # a repeated block: copy its layers under each name
            self.layers[box.first:] = [
                replace(lyr, name=name + "." + lyr.name[len(old):])
                if lyr.name.startswith(old) else lyr for name in box.names for lyr in block]

    def item(self, start: int) -> int:
        pos, label, repeat = start, None, 1
        line, col = self.at(start)
        if m := _LABEL.match(self.src, pos):
            label, pos = m[1].strip(), m.end()
            if (box := self.stack[-1]).line_ending and box.line < line and col - 1 <= box.indent:
                self.fail("P001", start, self.eol(start),
                          f"`{box.module}(` of line {box.line} is not closed before this line",
                          f"add a `)` at the indentation of line {box.line}")
                self.pop()
            if (m := _REPEAT.match(self.src, pos)) and int(m[1]) <= _MAX_LAYERS:
                repeat, pos = int(m[1]), m.end()
        elif m := _TARGET.match(self.src, pos):
            pos = m.end()
            if m[1].startswith("self.") or len(self.stack) > 1:
                label = m[1].removeprefix("self.")
        head = _HEAD.match(self.src, pos)
        if head is None:
            end = self.eol(pos)
            word = (self.src[pos:end].split() or [""])[0]
            self.fail("P001", pos, pos + len(word),
                      f"expected a module such as `Conv2d(3, 64, kernel_size=3)`, found `{word}`",
                      "paste what print(model) shows, or one nn.Module(...) call a line")
            self.layers.append(Unparsed(name=word or "?", span=self.span(pos, end)))
            for _ in range(self.src.count(")", pos, end) - self.src.count("(", pos, end)):
                if len(self.stack) > 1:
                    self.pop()  # the skipped text ends containers: `...]),`
            return end
        module, rest = head[2], self.src[head.end():self.eol(head.end())].strip()
        names = self.next_names(label, repeat)
        if module not in _MODULES and (module in _CONTAINERS or not rest):
            path = None if label is None and len(self.stack) == 1 else \
                names[0][len(self.prefix()):]
            self.stack.append(_Box(module, path, names, len(self.layers), line,
                                   _indent(self.lines[line - 1]), not rest))
            return head.end()
        close = self.match(head.end() - 1)
        if close is None:
            self.fail("P001", pos, self.eol(pos), f"`{module}(` is never closed: a `)` is missing",
                      "close the call on the line where it starts, or before the next module")
            self.layers.append(Unparsed(name=names[0], span=self.span(pos, self.eol(pos))))
            return self.eol(pos)
        span = self.span(pos, close + 1)
        try:
            if module not in _MODULES:
                raise _Fail(self.span(head.start(2), head.end(2)), "P002",
                            f"unknown module `{module}`", suggest(module, list(_MODULES))
                            or f"cnncalc reads {', '.join(_MODULES)}")
            cls, kwargs, fields = self.build(module, pos, close + 1, span)
            self.layers.extend(cls(name=name, span=span, fields=fields, **kwargs)
                               for name in names)
        except _Fail as exc:
            self.diags.append(exc.diag)
            self.layers.append(Unparsed(name=names[0], span=span))
        return close + 1

    def match(self, open_pos: int) -> int | None:
        """The offset of the ``)`` matching ``open_pos``, or None when the text ends or a line
        starting a new module comes first."""
        depth, quote = 0, ""
        for i in range(open_pos, len(self.src)):
            ch = self.src[i]
            if quote:
                quote = "" if ch in (quote, "\n") else quote
            elif ch in "'\"":
                quote = ch
            elif ch in "()":
                depth += 1 if ch == "(" else -1
                if depth == 0:
                    return i
            elif ch == "\n" and _ITEM_START.match(self.src, i + 1):
                return None
        return None

    def build(self, module: str, start: int, end: int, span: Span
              ) -> tuple[type[Layer], dict[str, Any], tuple[tuple[str, Span], ...]]:
        """The layer class, its keyword arguments and field spans for one call's text."""
        snippet = self.src[start:end]
        rows = snippet.split("\n")

        def node_span(node: ast.expr | ast.keyword) -> Span:
            def off(lineno: int, col: int) -> int:  # ast columns count UTF-8 bytes
                return start + sum(len(r) + 1 for r in rows[:lineno - 1]) + len(
                    rows[lineno - 1].encode()[:col].decode(errors="ignore"))
            return self.span(off(node.lineno, node.col_offset),
                             off(node.end_lineno or node.lineno, node.end_col_offset or 0))

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # `3x` and friends: the SyntaxError says it
                call = ast.parse(snippet, mode="eval").body
        except SyntaxError as exc:
            raise _Fail(span, "P001", f"`{rows[0]}` is not a call cnncalc can read: {exc.msg}",
                        "check the brackets, commas and quotes") from None
        if not isinstance(call, ast.Call):
            raise _Fail(span, "P001", f"`{rows[0]}` is not a module call")
        signature, required, builder = _MODULES[module]
        positional, _, kwonly = signature.partition("|")
        params = None if positional == "*" else positional.split()
        allowed = [*(params or ()), *kwonly.split()]
        if params is not None and len(call.args) > len(params):
            raise _Fail(node_span(call.args[len(params)]), "P010",
                        f"{module} takes at most {len(params)} positional arguments",
                        f"{module} takes {', '.join(allowed) or 'no arguments'}")
        unpacked: list[ast.expr | ast.keyword] = [
            *(n for n in call.args if isinstance(n, ast.Starred)),
            *(k for k in call.keywords if k.arg is None)]
        if unpacked:
            raise _Fail(node_span(unpacked[0]), "P009", "`*` or `**` unpacks values cnncalc "
                        "does not compute", "write the arguments out")
        bound = [(params[i] if params else str(i), node, node_span(node))
                 for i, node in enumerate(call.args)]
        for kw in call.keywords:
            name = kw.arg or ""
            if params is not None and name not in allowed:
                raise _Fail(node_span(kw), "P010", f"{module} has no argument `{name}`",
                            suggest(name, allowed) or f"{module} takes {', '.join(allowed)}")
            if any(name == b[0] for b in bound):
                raise _Fail(node_span(kw), "P010", f"{module}: `{name}` is given twice")
            bound.append((name, kw.value, node_span(kw)))
        args = _Args(module, span)
        for name, node, nspan in bound:
            args.values[name] = self.literal(node, node_span, name in _AS_TEXT)
            args.spans[name] = nspan
        missing = [p for p in (params or ())[:required] if p not in args.values]
        if missing:
            raise _Fail(span, "P010", f"{module} needs {missing[0]}",
                        f"{module} takes {', '.join(allowed)}")
        cls, kwargs = builder(args)
        return cls, kwargs, tuple((_FIELD.get(k, k), s) for k, s in args.spans.items())

    def literal(self, node: ast.expr, node_span: Callable[[ast.expr], Span],
                as_text: bool) -> Value:
        """The value a literal argument stands for, read from the tree; nothing is run."""
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float | str | None):
            return node.value
        if isinstance(node, ast.Tuple | ast.List):
            return tuple(self.literal(e, node_span, as_text) for e in node.elts)
        if isinstance(node, ast.Name):
            if as_text or node.id in ("same", "valid"):
                return node.id
            if node.id in self.defines:
                v = self.defines[node.id]
                return v if isinstance(v, int | float) else tuple(v)
            raise _Fail(node_span(node), "P008", f"`{node.id}` has no value",
                        f"bind it with --define {node.id}=VALUE")
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            num = self.literal(node.operand, node_span, as_text)
            if isinstance(num, int | float) and not isinstance(num, bool):
                return -num if isinstance(node.op, ast.USub) else num
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            x = self.literal(node.left, node_span, as_text)
            y = self.literal(node.right, node_span, as_text)
            if type(x) is int and type(y) is int and abs(
                    result := _OPS[type(node.op)](x, y)) < 1 << 60:
                return result
        raise _Fail(node_span(node), "P009", f"{_NOT_LITERAL.get(type(node), 'an expression')} "
                    "is not a literal: cnncalc never runs the text",
                    "write the value as a number, or bind a name with --define")


def parse_pytorch(text: str, path: str, defines: Mapping[str, DefineValue]) -> Spec:
    """Read ``print(model)`` text or ``nn.Module(...)`` calls; see the module docstring."""
    reader = _Reader(text, path, defines)
    reader.run()
    lines = tuple(text.splitlines())
    shape, span, problems = find_input(lines, path)
    return Spec(path, shape, span, tuple(reader.layers), tuple(reader.diags + problems), lines,
                "pytorch", "floor")
