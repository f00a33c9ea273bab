"""What of a Keras script is not model code, and what of it cnncalc must not pass over.

A script around a model loads data, prints, trains and evaluates; those statements are not
read (:mod:`cnncalc.parse.keras` reads the model). Not reading a statement is safe only when it
cannot change the model, so some are refused even so: a call given the model (but ``print``
and ``plot_model``), a ``model.add(...)`` inside an expression (a layer would be dropped),
code run from a string (``exec``, ``eval``, ``getattr``: anything may come of it), a call of a
module that reaches the system (``os.system``: no model code, and worth seeing), and a change
to an attribute or item of a model.
"""

from __future__ import annotations

import ast

from cnncalc.diagnostics import Diagnostic
from cnncalc.parse.keras_builders import LAYERS
from cnncalc.parse.keras_layers import ALIASES, Source
from cnncalc.parse.pycode import refuse

_HARMLESS = frozenset(("print", "plot_model"))  # calls given a model that do not change it
# calls that run code or reach names by string: anything may come of them, even a model
_DYNAMIC = frozenset(("exec", "eval", "compile", "__import__", "getattr", "setattr", "delattr",
                      "globals", "locals", "vars", "import_module", "run_path", "run_module"))
# modules that reach the system: a call of theirs is no model code, and is refused to be seen
_SYSTEM = frozenset(("os", "subprocess", "shutil", "socket", "sys", "importlib", "runpy",
                     "builtins", "ctypes", "pickle", "marshal"))


def callee_name(func: ast.expr) -> str | None:
    """``Conv2D``, ``layers.Conv2D`` or ``tf.keras.layers.Conv2D`` -> ``Conv2D``."""
    if type(func) is not ast.Attribute:
        return func.id if type(func) is ast.Name else None
    name, func = func.attr, func.value
    while type(func) is ast.Attribute:
        func = func.value
    return name if type(func) is ast.Name else None


_CLASSES = frozenset((*LAYERS, *ALIASES))


class ScriptReader(Source):
    """The screening of a script's statements, for the Keras reader: ``models`` are the
    variables of the models built so far (the reader's), ``aliases`` the file's import
    aliases of Keras classes."""

    models: dict[str | None, int]
    aliases: dict[str, str]

    def other_call(self, call: ast.Call) -> None:
        """A call that does not build a model (``print(...)``, ``np.random.seed(0)``) is not
        read; one that is given a model might change it, and is refused, but for ``print``
        and ``plot_model``."""
        self.no_hidden_add(call)
        dynamic = self.dynamic(call, system=True)
        if dynamic is not None:
            raise refuse(self.span(call), "P001", f"cannot follow a call of `{dynamic}`: it "
                         "runs code or reaches the system, and cnncalc runs nothing",
                         "keep the model's code apart, in model.add(...) or Sequential([...])")
        model = self.model_in(call)
        if model is None or callee_name(call.func) in _HARMLESS:
            return
        raise refuse(self.span(call), "P001", f"cannot follow a call of "
                     f"`{self.segment(call.func)}` that is given the model `{model}`",
                     "cnncalc reads Keras code without running it: add the layers with "
                     "model.add(...) or in the Sequential([...]) list")

    def no_hidden_add(self, node: ast.AST) -> None:
        """Refuse a ``NAME.add(...)`` inside an expression (``print(model.add(Dense(2)))``,
        ``x = model.add(...)``): cnncalc reads an add only as a statement of its own, and
        must not drop a layer silently."""
        for n in ast.walk(node):
            if type(n) is ast.Call and type(n.func) is ast.Attribute and n.func.attr == "add" \
                    and type(n.func.value) is ast.Name and (
                        n.func.value.id in self.models or (
                            n.args and type(n.args[0]) is ast.Call
                            and self.callee(n.args[0].func) in _CLASSES)):
                raise refuse(self.span(n), "P001", "cnncalc reads `model.add(...)` only as a "
                             "statement of its own", "write `model.add(Layer(...))` on a line "
                             "of its own")

    @staticmethod
    def dynamic(node: ast.AST, system: bool = False) -> str | None:
        """The first call in ``node`` that runs code or reaches a name by string (with
        ``system``, or a call of a module that reaches the system, ``os.system``), if any."""
        for n in ast.walk(node):
            if type(n) is ast.Call:
                if callee_name(n.func) in _DYNAMIC:
                    return callee_name(n.func)
                root = n.func
                while system and type(root) is ast.Attribute:
                    root = root.value
                if system and type(root) is ast.Name and root.id in _SYSTEM \
                        and root is not n.func:
                    return f"{root.id}.{callee_name(n.func)}"
        return None

    def model_in(self, node: ast.AST) -> str | None:
        """The first model variable the code of ``node`` names, if any."""
        if not self.models:
            return None
        return next((n.id for n in ast.walk(node)
                     if type(n) is ast.Name and n.id in self.models), None)

    def callee(self, func: ast.expr) -> str | None:
        """The Keras class a call makes: ``callee_name``, through the file's import aliases."""
        name = callee_name(func)
        if type(func) is ast.Name and name is not None:
            return self.aliases.get(name, name)
        return name

    def unbind(self, targets: list[ast.expr], diag: Diagnostic | None = None) -> None:
        """An assignment cnncalc does not read (``(x, y), (a, b) = load_data()``, ``a = b =
        1``): the names it binds have no value (told where a layer reads one); one that sets
        an attribute or an item of a model is refused."""
        model = next((m for t in targets if type(t) is not ast.Name
                      and (m := self.model_in(t)) is not None), None)
        if model is not None:
            raise refuse(self.span(targets[0]), "P001", f"cannot follow a change to the model "
                         f"`{model}`", "cnncalc reads the layers as the model is built")
        diag = diag or Diagnostic(self.span(targets[0]), "P001", "cnncalc binds only plain "
                                  "names", "write `NAME = literal`, e.g. `num_classes = 10`")
        for t in targets:
            for n in ast.walk(t):
                if type(n) is ast.Name and n.id not in self.defines:
                    self.bound.pop(n.id, None)
                    self.failed[n.id] = diag
