"""Safety: code in a spec is never run; absurd sizes are exact integers computed without
allocating; ``cnncalc run`` refuses a network that would need terabytes before it allocates
anything; a 100,000-layer spec finishes, in about linear time.

Times here are sanity ceilings (a hang becomes a failure), never performance assertions."""

from __future__ import annotations

import ast
import builtins
import importlib
import json
import os
import pkgutil
import subprocess
import sys
import textwrap
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from cnncalc.analyze import analyze
from cnncalc.parse import parse_text
from cnncalc.render.machine import to_csv, to_json

from .catalogue import MARKER, TOUCH
from .util import cli, within

E30 = 10**30

# ---- code is read, never run ----

PAYLOADS = {
    "keras": [
        "model = Sequential()\n" f"model.add(Dense({TOUCH}, input_shape=(4,)))\n",
        f"exec(\"{TOUCH}\")\nmodel = Sequential()\nmodel.add(Dense(10, input_shape=(4,)))\n",
        f"@{TOUCH}\ndef f():\n    pass\nmodel = Sequential()\n",
        f"n = (lambda: {TOUCH})()\nmodel = Sequential()\nmodel.add(Dense(n, input_shape=(4,)))\n",
        "model = Sequential()\n" f"model.add(Dense(10, name=f'{{{TOUCH}}}', input_shape=(4,)))\n",
        "model = Sequential()\n"
        f"model.add(Dense([{TOUCH} for _ in 'x'], input_shape=(4,)))\n",
        f"class M:\n    x = {TOUCH}\nmodel = Sequential()\n",
        f"import os; os.system('touch {MARKER}')\nmodel = Sequential()\n",
        f"with open('{MARKER}', 'w') as fh:\n    pass\nmodel = Sequential()\n",
        "model = Sequential()\n" f"model.add(Dense(**{{'units': {TOUCH}}}, input_shape=(4,)))\n",
    ],
    "pytorch": [
        f"# cnncalc: input 8x8x3\nnn.Conv2d(3, {TOUCH}, 3)\n",
        f"# cnncalc: input 8x8x3\nnn.Conv2d(3, 8, (lambda: {TOUCH})())\n",
        f"# cnncalc: input 8x8x3\nexec(\"{TOUCH}\")\n",
        f"# cnncalc: input 8x8x3\nNet(\n  (a): Conv2d(3, 8, kernel_size=f'{{{TOUCH}}}')\n)\n",
        f"# cnncalc: input 8x8x3\nnn.Linear(*[{TOUCH}])\n",
        f"# cnncalc: input 8x8x3\nself.fc = nn.Linear(3, {TOUCH})\n",
    ],
}


@pytest.fixture
def no_execution(monkeypatch: pytest.MonkeyPatch) -> None:
    """eval, exec, os.system, subprocess and compile-to-bytecode all fail the test if called
    (``ast.parse`` compiles to a tree only, which is allowed)."""
    if os.path.exists(MARKER):
        os.remove(MARKER)
    import cnncalc

    # importing compiles (without bytecode caches, from source): every module cnncalc may
    # import lazily is imported before the patches
    for info in pkgutil.walk_packages(cnncalc.__path__, "cnncalc."):
        if not info.name.endswith("__main__"):
            importlib.import_module(info.name)
    import cnncalc.records

    cnncalc.records.compile_all()  # the records' own __init__s, compiled on first use
    real_compile = builtins.compile

    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"cnncalc tried to run code: {args!r:.200}")

    def tree_only(source: Any, filename: Any, mode: Any, flags: int = 0, *args: Any,
                  **kwargs: Any) -> Any:
        if not flags & ast.PyCF_ONLY_AST:
            forbidden(source)
        return real_compile(source, filename, mode, flags, *args, **kwargs)

    for name in ("eval", "exec"):
        monkeypatch.setattr(builtins, name, forbidden)
    monkeypatch.setattr(builtins, "compile", tree_only)
    monkeypatch.setattr(os, "system", forbidden)
    monkeypatch.setattr(os, "popen", forbidden)
    monkeypatch.setattr(subprocess, "Popen", forbidden)


@pytest.mark.usefixtures("no_execution")
@pytest.mark.parametrize(("notation", "text"), [
    pytest.param(n, t, id=f"{n}-{i}") for n, ts in PAYLOADS.items() for i, t in enumerate(ts)])
def test_code_in_a_spec_is_refused_not_run(notation: str, text: str) -> None:
    for forced in (notation, None):
        a = analyze(parse_text(text, "code.txt", forced))
        assert not a.ok
        assert {d.code for d in a.diagnostics} & {"P001", "P002", "P009", "P010"}, [
            (d.code, d.message) for d in a.diagnostics]
    assert not os.path.exists(MARKER)


# ---- absurd sizes: exact, no overflow, no allocation, fast ----

ABSURD = f"[1x1x{E30}] INPUT\nCONV1: {E30} 1x1 filters\nFC2: 10 neurons\n"


def test_1e30_channels_are_exact_integers() -> None:
    tracemalloc.start()
    try:
        with within(5):
            a = analyze(parse_text(ABSURD, "absurd.txt"))
            text = to_json(a)
            to_csv(a)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert a.ok and a.totals is not None
    conv, fc = a.layers
    assert conv.output_shape == (1, 1, E30)
    assert (conv.weights, conv.biases, conv.macs) == (E30 * E30, E30, E30 * E30)
    assert (fc.weights, fc.biases, fc.macs) == (10 * E30, 10, 10 * E30)
    t = a.totals
    assert t.params == E30 * E30 + E30 + 10 * E30 + 10
    assert t.macs == E30 * E30 + 10 * E30 and t.flops == 2 * t.macs
    assert t.activations == E30 + 10
    totals = json.loads(text)["totals"]
    assert totals["params"] == t.params and type(totals["params"]) is int
    assert totals["activation_bytes"] == 4 * (E30 + 10)
    assert peak < 20 * 2**20, f"analysing 10**30 channels allocated {peak:,} bytes"


def test_1e30_channels_through_show(tmp_path: Path) -> None:
    path = tmp_path / "absurd.txt"
    path.write_text(ABSURD, encoding="utf-8")
    code, out, err = cli(["show", "--format", "csv", str(path)], seconds=10)
    assert code == 0, err
    assert out.splitlines()[-1].split(",")[10] == str(E30 * E30 + E30 + 10 * E30 + 10)
    code, out, err = cli(["show", str(path)], seconds=10)
    assert code == 0, err


# ---- the executor's memory guard ----

TERABYTES = "[100000x100000x3] INPUT\nCONV1: 4096 3x3 filters at stride 1, pad 1\n"


def test_run_refuses_terabytes_before_allocating(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    network = pytest.importorskip("cnncalc.execute.network")
    path = tmp_path / "huge.txt"
    path.write_text(TERABYTES, encoding="utf-8")

    def never(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("cnncalc run started allocating arrays")

    monkeypatch.setattr(network, "Network", never)
    monkeypatch.setattr(network, "random_input", never)
    code, _out, err = cli(["run", "--max-memory", "8G", str(path)], seconds=20)
    assert code == 2, err
    assert "refusing to run" in err
    assert "estimated peak memory is 149 TiB" in err
    assert "limit of 8 GiB (8,589,934,592 bytes)" in err
    assert "internal error" not in err


@pytest.mark.parametrize(("spec", "args"), [
    (ABSURD, []),
    (TERABYTES, []),
    ("[8x8x3] INPUT\nCONV1: 8 3x3 filters\n", ["--batch", str(10**9)]),
    ("[227x227x3] INPUT\nCONV1: 96 11x11 filters at stride 4\n", ["--max-memory", "1M"]),
])
def test_run_memory_guard_in_a_subprocess(spec: str, args: list[str], tmp_path: Path) -> None:
    """Exit 2 with the estimate and the limit named, and the process's own peak RSS (from
    resource.getrusage) stays small: nothing near the estimate was ever allocated."""
    pytest.importorskip("cnncalc.execute")
    path = tmp_path / "spec.txt"
    path.write_text(spec, encoding="utf-8")
    script = textwrap.dedent("""
        import json, sys
        from cnncalc.cli import main
        from cnncalc.execute.estimate import peak_resident_bytes
        code = 0
        try:
            main(sys.argv[1:])
        except SystemExit as exc:
            code = exc.code
        rss_kib = peak_resident_bytes() // 1024  # this process's own: not ru_maxrss, which
                                                 # carries pytest's peak across fork and exec
        print(json.dumps({"code": code, "rss_kib": rss_kib}), file=sys.stdout)
    """)
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-c", script, "run", "--quiet", *args, str(path)],
                          capture_output=True, text=True, timeout=120, check=False)
    elapsed = time.monotonic() - start
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["code"] == 2, done.stderr
    assert "refusing to run" in done.stderr and "estimated peak memory is" in done.stderr
    assert "above the limit of" in done.stderr
    assert result["rss_kib"] < 400 * 1024, result
    assert elapsed < 60


# ---- 100,000 layers ----

def _parse_and_analyze(n: int) -> float:
    text = "[8x8x3] INPUT\n" + "CONV: 3 1x1 filters\nRELU\n" * (n // 2)
    start = time.perf_counter()
    a = analyze(parse_text(text, "deep.txt"))
    elapsed = time.perf_counter() - start
    assert a.ok and len(a.layers) == n
    assert a.totals is not None and a.totals.params == (n // 2) * 12
    return elapsed


def test_100000_layers_finish_in_about_linear_time() -> None:
    with within(120):
        small = _parse_and_analyze(10_000)
        large = _parse_and_analyze(100_000)
    # linear would be 10; a quadratic step would make it about 100
    assert large / small < 40, (small, large)
    assert large < 60


def test_100000_repeated_pytorch_layers() -> None:
    text = ("# cnncalc: input 8x8x3\nNet(\n  (blocks): ModuleList(\n"
            "    (0-99999): 100000 x ReLU(inplace=True)\n  )\n)\n")
    with within(60):
        a = analyze(parse_text(text, "repeat.txt"))
    assert a.ok and len(a.layers) == 100_000
    assert a.layers[-1].layer.name == "blocks.99999"


@pytest.mark.parametrize("spec", [
    "[8x8x3] INPUT\nCONV1: 8 3x3 filters at stride 100000000000000000000, pad same\n",
    "model = Sequential()\nmodel.add(Conv2D(8, 3, strides=100000000000000000000, "
    "padding='same', input_shape=(8, 8, 3)))\n",
])
def test_run_with_a_huge_stride(spec: str, tmp_path: Path) -> None:
    pytest.importorskip("cnncalc.execute.network")
    path = tmp_path / "stride.txt"
    path.write_text(spec, encoding="utf-8")
    code, _out, err = cli(["run", "--quiet", str(path)], seconds=20)
    assert "internal error" not in err
    assert code == 0, err


H20 = 10**20
HUGE_RUNS = {  # name: (spec, exit status of `run --max-memory 256M`)
    # only one window or one tap uses the huge value: run, and match the analysis
    "conv-stride-pad": (f"ROUNDING: floor\n[8x8x3] INPUT\nCONV1: 8 3x3 filters at stride "
                        f"{H20}, pad 1\n", 0),
    "conv-stride-one-axis": (f"ROUNDING: floor\n[8x8x3] INPUT\nCONV1: 8 3x3 filters at stride "
                             f"1x{H20}\n", 0),
    "grouped-conv-stride": (f"ROUNDING: ceil\n[8x8x4] INPUT\nCONV1: 8 3x3 filters at stride "
                            f"{H20}, groups 2\n", 0),
    "dwconv-stride": (f"ROUNDING: floor\n[8x8x4] INPUT\nDWCONV1: 3x3 filters at stride {H20}\n",
                      0),
    "conv-single-tap-dilation": (f"[8x8x3] INPUT\nCONV1: 8 1x3 filters, dilation {H20}x1\n", 0),
    "max-pool-stride": (f"[7x7x4] INPUT\nMAX POOL: 3x3 filters at stride {H20}, ceil\n", 0),
    "avg-pool-stride": (f"[7x7x4] INPUT\nAVG POOL: 3x3 filters at stride {H20}, ceil\n", 0),
    "avg-pool-stride-pad": (f"ROUNDING: floor\n[7x7x4] INPUT\nAVG POOL: 3x3 filters at stride "
                            f"{H20}, pad 1\n", 0),
    "avg-pool-single-tap-dilation": (f"[7x7x4] INPUT\nAVG POOL: 1x1 filters, dilation {H20}\n",
                                     0),
    "deconv-stride-one-pixel": (f"[1x1x4] INPUT\nDECONV: 4 3x3 filters at stride {H20}\n", 0),
    "deconv-single-tap-dilation": (f"[4x4x4] INPUT\nDECONV: 4 1x1 filters, dilation {H20}\n", 0),
    "pytorch-avg-pool": (f"# cnncalc: input 32x32x3\nnn.AvgPool2d(3, stride={H20}, padding=1, "
                         "ceil_mode=True)\n", 0),
    # the executor would materialise 10**20 cells of padding or output: refused, not tried
    "conv-huge-pad": (f"ROUNDING: floor\n[8x8x3] INPUT\nCONV1: 8 3x3 filters at stride {H20}, "
                      f"pad {H20}\n", 2),
    "conv-huge-dilation-same": (f"[8x8x3] INPUT\nCONV1: 8 3x3 filters, dilation {H20}, "
                                "pad same\n", 2),
    "deconv-stride-two-pixels": (f"[2x2x4] INPUT\nDECONV: 4 3x3 filters at stride {H20}\n", 2),
}


@pytest.mark.parametrize("name", sorted(HUGE_RUNS))
def test_run_with_huge_strides_dilations_and_paddings(name: str, tmp_path: Path) -> None:
    """Every stride, dilation and padding the analysis accepts either runs and matches (exit
    0) or is refused by the memory guard before anything is allocated (exit 2); no overflow."""
    pytest.importorskip("cnncalc.execute.network")
    text, expected = HUGE_RUNS[name]
    path = tmp_path / "huge.txt"
    path.write_text(text, encoding="utf-8")
    code, out, err = cli(["run", "--format", "json", "--max-memory", "256M", str(path)],
                         seconds=20)
    assert "internal error" not in err
    assert code == expected, err
    if expected == 0:
        report = json.loads(out)
        assert report["ok"] is True and len(report["layers"]) == 1
    else:
        assert "refusing to run" in err and "above the limit of 256 MiB" in err


def test_run_refuses_more_memory_than_a_process_can_address(tmp_path: Path) -> None:
    """--max-memory may be raised past 2**63 bytes; an estimate above that is refused anyway
    (NumPy would raise ValueError, not MemoryError, on such an array)."""
    pytest.importorskip("cnncalc.execute.network")
    path = tmp_path / "dilated.txt"
    path.write_text("[8x8x3] INPUT\nCONV1: 8 3x3 filters, dilation 1000000000, pad same\n",
                    encoding="utf-8")
    code, out, err = cli(["run", "--max-memory", "99999999999P", str(path)])
    assert code == 2 and out == ""
    assert err.splitlines()[0] == (
        f"cnncalc run: refusing to run {path}: the estimated peak memory is 41.6 EiB "
        "(48,000,000,384,000,371,840 bytes) at batch 1 in float32, more than a process can "
        "address (9,223,372,036,854,775,807 bytes)")
    assert err.splitlines()[-1] == "  hint: use a smaller --batch or --input"
