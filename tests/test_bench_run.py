"""benchmarks/bench_run.py's report has its parts: a smoke run of one small configuration with
one turn and torch off. Times are never asserted, only that every figure the report promises
is printed (and, where torch is importable, that its model of a chain spec is the same
network as the analysis's)."""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"


def run_bench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(BENCH / "bench_run.py"), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)


def test_report_structure_without_torch() -> None:
    proc = run_bench("--configs", "mobilenet_v1:1", "--runs", "1", "--threads", "1",
                     "--no-torch")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "torch off (--no-torch): executor-only figures" in out
    assert re.search(r"^mobilenet_v1, batch 1, 1 thread: specs/mobilenet_v1\.txt, "
                     r"4,231,976 params", out, re.M)
    assert re.search(r"BLAS .*, 1 thread \(", out)
    assert re.search(r"^  executor +[\d.]+ ms \[[\d.]+-[\d.]+\] +[\d.]+ GFLOP/s$", out, re.M)
    assert "  executor / torch: n/a (no torch times)" in out
    for cls in ("conv", "pointwise", "fc"):
        assert re.search(rf"^    {cls} +[\d.]+ ms +\d+%  +[\d.]+ [GMk] MACs +[\d.]+ GFLOP/s  "
                         r"matmul on its products +[\d.]+ GFLOP/s: +\d+%  (PASS|FAIL) "
                         r"\(>= 75%\)$", out, re.M), cls
    assert re.search(r"^    depthwise +[\d.]+ ms .* GB/s in\+out; np\.copyto of the same bytes "
                     r"+[\d.]+ GB/s: +\d+%$", out, re.M)
    assert re.search(r"^    other +[\d.]+ ms +\d+% ", out, re.M)
    assert re.search(r"^    CONV1 +3x3x3 +[\d.]+ ms", out, re.M)  # the first conv
    assert re.search(r"^  memory: peak RSS [\d.]+ MiB .* estimate [\d.]+ MiB.*; RSS / estimate "
                     r"[\d.]+  (PASS|FAIL) \(within 1\.2x\)$", out, re.M)
    assert re.search(r"^mobilenet_v1 b1 +1 +[\d.]+ ms +- +- +- +\d+% +\d+% +\d+% +\d+% "
                     r"+[\d.]+ +(\d+%|-)$", out, re.M)
    assert re.search(r"; other processes used \d+% of the CPUs during the turns", out)


def test_unknown_config_is_a_usage_error() -> None:
    proc = run_bench("--configs", "no_such_net:1", "--no-torch")
    assert proc.returncode == 2
    assert "no_such_net:1" in proc.stderr


def bench_module(name: str) -> Any:
    sys.path.insert(0, str(BENCH))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(BENCH))


@pytest.mark.parametrize(("params", "output", "same"), [
    (61_706, [10], True),
    (61_707, [10], False),  # another network: never compared
    (61_706, [10, 1, 1], False),  # NCHW [10, 1, 1] is HWC [1, 1, 10], not [10]
])
def test_a_torch_model_is_compared_only_when_it_is_the_same_network(
        params: int, output: list[int], same: bool) -> None:
    check_model = bench_module("bench_run").check_model
    answer = {"params": params, "output": output, "torch": "2.x", "threads": 1}
    model, note, mismatch = check_model(answer, {"layers": []},
                                        {"params": 61_706, "output": [10]})
    assert (model is answer, mismatch == "") == (same, same)
    assert f"{params:,} params" in note


def test_torch_model_is_the_same_network() -> None:
    """The torch worker builds lenet5 from the executor's description with the analysis's
    params and output shape (bench_run refuses to compare otherwise)."""
    pytest.importorskip("torch")
    torch_model = bench_module("bench_run_executor").torch_model
    from cnncalc.execute.network import plan
    from cnncalc.options import load

    analysis = load(str(ROOT / "specs" / "lenet5.txt"))
    model = torch_model("lenet5", plan(analysis).modules)
    request = {"model": model, "input": [1, 32, 32], "batch": 2}
    proc = subprocess.run([sys.executable, str(BENCH / "bench_run_torch.py"), "1"],
                          input=json.dumps(request) + "\n", capture_output=True, text=True,
                          timeout=120, check=True)
    hello, answer = (json.loads(line) for line in proc.stdout.splitlines())
    assert hello["threads"] == 1
    assert analysis.totals is not None
    assert answer["params"] == analysis.totals.params == 61_706
    assert answer["output"] == [10]
