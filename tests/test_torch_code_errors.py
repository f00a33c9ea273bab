"""What cnncalc does not follow in PyTorch model code: one error (P021) at the construct, at
its line and column, naming it; bounds (P022) instead of a hang; and nothing of the text is
ever run: code that would write a file or open a socket does neither."""

from __future__ import annotations

import ast
import socket
import textwrap
from pathlib import Path

import pytest
from test_torch_code_constructs import model

from cnncalc.analyze import Analysis, analyze
from cnncalc.parse import parse_text

CONV = "self.conv = nn.Conv2d(4, 4, 3, padding=1)\n"


def read(code: str, **kw: object) -> Analysis:
    return analyze(parse_text(code, "m.py", input_volume=(8, 8, 4), **kw),  # type: ignore[arg-type]
                   (8, 8, 4))


def errors(code: str) -> list[tuple[int, int, str]]:
    return [(d.span.line, d.span.col, d.code) for d in read(code).diagnostics
            if d.severity.value == "error"]


def where(code: str, marker: str) -> tuple[int, int]:
    """The line and column (1-based) of ``marker`` in ``code``."""
    for n, line in enumerate(code.splitlines(), start=1):
        if marker in line:
            return n, line.index(marker) + 1
    raise AssertionError(marker)


# (__init__ body, forward body, the text the error points at, words of its message)
UNSUPPORTED = [
    (CONV, "while True:\n    x = self.conv(x)\nreturn x", "while True", "a `while` loop"),
    (CONV, "return getattr(self, 'conv')(x)", "getattr(self", "a call of `getattr`"),
    (CONV, "f = lambda t: self.conv(t)\nreturn f(x)", "lambda t", "a lambda"),
    (CONV, "try:\n    x = self.conv(x)\nexcept Exception:\n    pass\nreturn x", "try:",
     "a `try` statement"),
    (CONV, "with torch.no_grad():\n    x = self.conv(x)\nreturn x", "with torch",
     "a `with` statement"),
    ("self.rnn = nn.LSTM(4, 4)\n", "return self.rnn(x)", "nn.LSTM(4, 4)",
     "a call of `nn.LSTM`"),
    ("", "return x * 0.5", "x * 0.5", "`*` of a tensor and a number"),
    ("self.noise = torch.randn(1, 4, 8, 8)\n", "return x", "torch.randn(",
     "a call of `torch.randn`"),
    (CONV, "return self.conv(x).permute(0, 2, 3, 1)", "self.conv(x).permute",
     "`.permute` of a tensor"),
    ("import os\nos.system('true')\n" + CONV, "return self.conv(x)", "os.system(",
     "a call of `os.system`"),
    (CONV, "global y\nreturn self.conv(x)", "global y", "a `global` statement"),
    (CONV, "return eval('self.conv')(x)", "eval('self", "a call of `eval`"),
    (CONV, "return self.conv(x).__class__", "self.conv(x).__class__", "the attribute `__class__`"),
    ("", "return torch.cat([x, x], dim=2)", "torch.cat(", "`torch.cat` along dimension 2"),
    ("", "return x.view(x.size(0), 4, 16, 4)", "x.view(", "a reshape to"),
    ("", "return x[:, :, 0:4, 0:4]", "x[:, :, 0:4", "a crop that is not centred"),
    ("", "return F.pad(x, [1, 1], mode='reflect')", "F.pad(", "`F.pad` other than with zeros"),
    ("", "return x.view(x.size(0) * 2, -1)", "x.size(0) * 2", "`*` of the batch size"),
    ("", "if x.size(1) > 2:\n    x = F.relu(x)\nreturn x if x else x", "x if x else x",
     "the truth of a tensor"),
    ("self.add_module('{0.real}'.format(1), nn.ReLU())\n", "return x", "'{0.real}'.format(",
     "a `format` of other than numbers and text into plain fields"),
    # a forward() whose result is not one tensor: at its `return`, or at its def without one
    (CONV, "y = self.conv(x)\nreturn y, x", "return y, x", "returns other than one tensor"),
    (CONV, "return {'out': self.conv(x)}", "return {'out'", "returns other than one tensor"),
    (CONV, "y = self.conv(x)", "def forward", "returns other than one tensor"),
]


@pytest.mark.parametrize(("init", "forward", "marker", "words"), UNSUPPORTED,
                         ids=[u[3] for u in UNSUPPORTED])
def test_one_error_at_the_construct(init, forward, marker, words):
    code = model(init, forward)
    a = read(code)
    found = [d for d in a.diagnostics if d.severity.value == "error"]
    assert len(found) == 1, [(d.code, d.message) for d in found]
    d = found[0]
    assert d.code == "P021"
    assert (d.span.line, d.span.col) == where(code, marker)
    assert words in d.message
    assert a.totals is None


def test_a_construct_in_a_block_used_many_times_is_one_error():
    extra = """
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(4, 4, 3, padding=1)

        def forward(self, x):
            return F.hardtanh(self.conv(x))


    """
    code = model("self.blocks = nn.Sequential(*[Block() for _ in range(20)])\n",
                 "return self.blocks(x)", extra)
    assert errors(code) == [(*where(code, "F.hardtanh("), "P021")]


def test_a_syntax_error_is_one_error():
    assert errors("import torch.nn as nn\nclass Net(nn.Module):\n    def forward(self, x)\n") \
        == [(3, 25, "P001")]


# --- bounds -----------------------------------------------------------------------------

BOUNDS = [
    ("for i in range(10 ** 9):\n    pass\n", "for i in range", "a `for` loop of 1,000,000,000"),
    ("def f(n):\n    return f(n + 1)\nf(0)\n", "f(n + 1)", "calls nested more than"),
    ("xs = [0] * 10 ** 9\n", "[0] * 10 ** 9", "a sequence repeated"),
    ("n = 2 ** 10 ** 6\n", "2 ** 10 ** 6", "a number of more than"),
    ("for i in range(9999):\n    for j in range(9999):\n        pass\n", "pass",
     "more than 200,000 steps"),
    ("xs = [i for i in range(10 ** 6)]\n", "range(10 ** 6)", "a comprehension over"),
    ("x = " + "(" * 70 + "1" + ")" * 70 + "\ny = -" * 1 + "-" * 70 + "1\n", "-" * 62 + "1",
     "nested more than"),
]


@pytest.mark.parametrize(("init", "marker", "words"), BOUNDS, ids=[b[2] for b in BOUNDS])
def test_a_bound_is_a_diagnostic_not_a_hang(init, marker, words):
    code = model(CONV + init, "return self.conv(x)")
    a = read(code)
    found = [d for d in a.diagnostics if d.severity.value == "error"]
    assert [d.code for d in found] == ["P022"], [(d.code, d.message) for d in found]
    assert words in found[0].message
    assert found[0].span.line == where(code, marker)[0]


def test_recursion_through_forward_is_bounded():
    code = model(CONV, "return self(x)")
    assert [c for _, _, c in errors(code)] == ["P022"]


def test_layers_over_the_cap_stop_reading():
    code = model("self.convs = nn.Sequential(*[nn.Conv2d(4, 4, 1) for _ in range(50)])\n",
                 "return self.convs(x)")
    a = analyze(parse_text(code, "m.py", input_volume=(8, 8, 4), max_layers=10), (8, 8, 4))
    assert [d.code for d in a.diagnostics] == ["P012"]
    assert a.totals is None


# --- nothing is run ---------------------------------------------------------------------

def test_code_that_would_write_a_file_or_open_a_socket_does_nothing(tmp_path, monkeypatch):
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(0.2)
    port = server.getsockname()[1]
    mark = tmp_path / "written"
    calls: list[str] = []
    real_socket = socket.socket

    def spy(*args: object, **kw: object) -> socket.socket:
        calls.append("socket")
        return real_socket(*args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "socket", spy)
    code = textwrap.dedent(f"""\
        import os, socket, subprocess
        import torch.nn as nn
        MARK = {str(mark)!r}
        open(MARK, "w").write("top")
        os.system("touch " + MARK)
        subprocess.run(["touch", MARK])
        __import__("os").system("touch " + MARK)
        socket.create_connection(("127.0.0.1", {port}))

        class Net(nn.Module):
            def __init__(self, path=open(MARK, "w")):
                super().__init__()
                self.conv = nn.Conv2d(4, 4, 3)

            def forward(self, x):
                socket.create_connection(("127.0.0.1", {port})).send(b"x")
                return self.conv(x)

        net = Net()
        exec("open(MARK, 'w')")
        """)
    a = read(code)
    assert [d.code for d in a.diagnostics if d.severity.value == "error"] == ["P021"]
    assert not mark.exists()
    assert calls == []
    with pytest.raises(TimeoutError):
        server.accept()
    server.close()


def test_the_interpreter_calls_no_python_evaluation():
    """No module of the interpreter names eval, exec, compile, __import__, importlib, open,
    getattr on user text, or subprocess: it cannot hand the text to Python."""
    forbidden = {"exec", "compile", "__import__", "importlib", "open", "subprocess", "system",
                 "globals", "vars", "setattr"}
    root = Path(__file__).resolve().parent.parent / "cnncalc" / "parse"
    for path in [*root.glob("code/*.py"), root / "torch_code.py"]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        names |= {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
        assert names & forbidden == set(), path.name
        calls = {n.func.id for n in ast.walk(tree)
                 if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
        assert "eval" not in calls, path.name


def test_copying_long_lists_again_and_again_is_bounded():
    init = "xs = []\nfor i in range(10000):\n    xs = xs + [0] * 9\n"
    code = model(CONV + init, "return self.conv(x)")
    found = [(d.code, d.message) for d in read(code).diagnostics]
    assert len(found) == 1 and found[0][0] == "P022" and "steps" in found[0][1]


def test_a_deep_nest_of_modules_is_one_diagnostic():
    init = "m = nn.ReLU()\nfor i in range(5000):\n    m = nn.Sequential(m)\nself.deep = m\n"
    a = read(model(init, "return self.deep(x)"))
    assert [d.code for d in a.diagnostics] == ["P022"]
    assert a.totals is None


def test_long_names_are_cut():
    init = "self.add_module('n' * 5000, nn.ReLU())\n"
    a = read(model(init, "return self.get(x)".replace("self.get", "self." + "n" * 5000)))
    assert a.totals is not None
    assert len(a.layers[0].layer.name) <= 200


def test_an_unexpected_value_is_a_diagnostic_not_a_traceback(monkeypatch):
    from cnncalc.parse.code import pyops
    from cnncalc.parse.code.values import Native

    def broken(it, args, kwargs, node):
        raise TypeError("unexpected")

    monkeypatch.setitem(pyops.BUILTINS, "len", Native("len", broken))
    code = model(CONV + "n = len([1, 2])\n", "return self.conv(x)")
    found = [(d.code, d.span.line, d.message) for d in read(code).diagnostics]
    assert found == [("P021", where(code, "n = len")[0], "this statement (TypeError): cnncalc "
                      "reads model code without running it and does not follow this")]


def test_many_top_level_statements_that_stop_leave_nothing_in_progress():
    """Each failing assignment at the top is left alone; none of them counts against the
    nesting of the model's own expressions."""
    top = "".join(f"d{i} = torch.device(('cuda', {i}))\n" for i in range(100))
    code = top + model(CONV, "return self.conv(x)")
    a = read(code)
    assert a.diagnostics == () and a.totals is not None


# --- never a traceback --------------------------------------------------------------------

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "torch_code"


@pytest.mark.parametrize("name", ["cifar_net.py", "resnet_cifar.py", "unet.py", "se_resnet.py"])
def test_mangled_model_code_never_crashes(name):
    """Seeded edits of a fixture (a line dropped, doubled or moved, a number changed, a word
    swapped for another of the file): each is read and analysed without an exception, and a
    result without totals always says why."""
    import random

    rows = (FIXTURES / name).read_text(encoding="utf-8").splitlines()
    words = sorted({w for row in rows for w in row.replace("(", " ").replace(")", " ").split()
                    if w.isidentifier()})
    rng = random.Random(name)
    for _ in range(40):
        edited = list(rows)
        k = rng.randrange(len(edited))
        how = rng.randrange(4)
        if how == 0:
            del edited[k]
        elif how == 1:
            edited.insert(k, edited[k])
        elif how == 2:
            edited.insert(rng.randrange(len(edited)), edited.pop(k))
        else:
            row = edited[k].split(" ")
            j = rng.randrange(len(row))
            row[j] = rng.choice([*words, "0", "-1", "10**9", "None"])
            edited[k] = " ".join(row)
        a = analyze(parse_text("\n".join(edited), name, model="ResNet18" if "resnet" in name
                               else None, input_volume=(32, 32, 3)), (32, 32, 3))
        if a.totals is None:
            assert any(d.severity.value == "error" for d in a.diagnostics)


def test_a_return_in_a_class_body_is_one_error():
    code = ("import torch.nn as nn\n\nclass Net(nn.Module):\n    return 3\n\n"
            "    def forward(self, x):\n        return x\n\nnet = Net()\n")
    assert errors(code) == [(4, 5, "P021")]
