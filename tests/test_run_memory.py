"""``cnncalc run``'s memory figures and threads: the estimate states the process's baseline
(the interpreter and libraries) apart from the network's own peak, which stays a pure function
of the plan; the weights' set-up temporaries are modelled from ``cnncalc.execute.weights``;
the measured peak is reported beside the estimate; the threads come from one place and follow
``OPENBLAS_NUM_THREADS`` / ``OMP_NUM_THREADS``. No test asserts the process's resident memory
(it is noisy): only that the figures are there, consistent and named."""

from __future__ import annotations

import json
import os
import sys
import tracemalloc
import types
from dataclasses import replace

import numpy as np
import pytest

import cnncalc.commands.run as run_module
import cnncalc.execute.estimate as estimate
from cnncalc.cli import cli
from cnncalc.execute import depthwise, threads
from cnncalc.execute.estimate import Estimate
from cnncalc.execute.memory import memory_estimate
from cnncalc.execute.network import Network, plan
from cnncalc.execute.weights import POOL, WINDOW, WeightSource, setup_bytes
from cnncalc.options import load
from cnncalc.render.memory import human_bytes

VARIABLES = ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS")


@pytest.fixture
def clean_env(monkeypatch):
    for var in VARIABLES:
        monkeypatch.delenv(var, raising=False)
    return monkeypatch


# --- the network's part: unchanged, a pure function of the plan ------------------------------

def _lenet_estimate(batch: int = 1) -> Estimate:
    a = load("specs/lenet5.txt", None, (), None, None, None, None, None, None)
    p = plan(a)
    assert a.input is not None
    return memory_estimate(p.modules, a.input, batch, 4, output=p.output)


def test_the_network_part_is_what_it_was():
    """LeNet-5's figures as the estimate gives them without the baseline: params, the input
    batch, the scratch buffers (the largest im2col chunk, NumPy's ufunc buffers, the slice of
    |w| the output bounds sum, the block the layers' outputs live in) and the worst layer's
    own."""
    est = _lenet_estimate()
    assert est.param_bytes == 61_706 * 4
    assert est.worst is not None and est.block_bytes > 0
    assert est.peak_bytes == est.param_bytes + 4_096 + est.scratch_bytes + est.worst.total
    assert est.peak_bytes == 713_664
    assert est.baseline_bytes == 0  # memory_estimate never measures the process
    assert est.setup_bytes == 2 * POOL * 4  # CONV3's 48,120 values exceed a window
    assert est.network_bytes == est.param_bytes + est.setup_bytes > est.peak_bytes
    assert est.total_bytes == est.network_bytes
    assert _lenet_estimate() == est  # the same plan, the same figures


def test_the_total_adds_the_baseline_to_the_larger_of_set_up_and_forward():
    est = Estimate(param_bytes=1000, input_bytes=10, layers=(), scratch_bytes=0,
                   setup_bytes=500, baseline_bytes=40 << 20)
    assert est.peak_bytes == 1010 and est.network_bytes == 1500
    assert est.total_bytes == (40 << 20) + 1500
    assert "the interpreter and libraries, 40 MiB, come on top" in est.describe()
    assert "building the weights takes more" in est.describe()
    bigger = replace(est, setup_bytes=0)
    assert bigger.network_bytes == bigger.peak_bytes == 1010


@pytest.mark.parametrize(("sizes", "want"), [
    ((), 0),
    ((10, 216, 8), 216 * 4),  # small arrays only: the second draw of the largest
    ((WINDOW,), WINDOW * 4),
    ((10, WINDOW + 1, 5), 2 * POOL * 4),  # a large one: the pool and its scaled copy
])
def test_setup_bytes(sizes, want):
    assert setup_bytes(sizes, 4) == want


@pytest.mark.parametrize("spec", ["specs/lenet5.txt", "specs/one_7x7.txt"])
def test_the_set_up_temporaries_match_what_numpy_allocates(spec):
    """tracemalloc counts NumPy's data buffers exactly: building the weights peaks at the
    params plus the modelled temporaries (within Python's own small objects; an array made
    after the last large one is not there yet when the pool is, hence the lower margin)."""
    a = load(spec, None, (), None, None, None, None, None, None)
    p = plan(a)
    assert a.input is not None
    est = memory_estimate(p.modules, a.input, 1, 4, output=p.output)
    np.random.default_rng(0)  # NumPy's random module loaded before tracing
    tracemalloc.start()
    try:
        Network(p.modules, "float32", 0, output=p.output)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    expected = est.param_bytes + est.setup_bytes
    assert expected - 64 * 1024 <= peak <= expected + 128 * 1024


# --- the process's memory --------------------------------------------------------------------

def test_peak_resident_bytes_is_this_process_own_not_its_parents(tmp_path):
    """ru_maxrss is carried across fork and exec on Linux: a child of a process holding
    300 MiB would report 300 MiB; VmHWM, which the figure is read from, is its own."""
    import subprocess

    if not os.path.exists("/proc/self/status"):
        pytest.skip("no /proc")
    ballast = bytearray(300 * 2**20)
    ballast[::4096] = b"\1" * len(range(0, len(ballast), 4096))  # resident, page by page
    code = ("from cnncalc.execute.estimate import peak_resident_bytes; "
            "print(peak_resident_bytes())")
    child = int(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                               check=True, timeout=60).stdout)
    del ballast
    assert child < 200 * 2**20


def test_peak_resident_bytes_is_kib_on_linux_and_bytes_on_macos(monkeypatch):
    fake = types.SimpleNamespace(RUSAGE_SELF=0,
                                 getrusage=lambda who: types.SimpleNamespace(ru_maxrss=1000))
    real_open = open

    def no_proc(path, *args, **kwargs):
        if str(path).startswith("/proc/"):
            raise OSError("no /proc here")
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr("builtins.open", no_proc)
    monkeypatch.setitem(sys.modules, "resource", fake)
    monkeypatch.setattr(sys, "platform", "linux")
    assert estimate.peak_resident_bytes() == 1000 * 1024
    monkeypatch.setattr(sys, "platform", "darwin")
    assert estimate.peak_resident_bytes() == 1000


def test_resident_bytes_falls_back_to_the_peak_without_proc(monkeypatch):
    def no_proc(*args, **kwargs):
        raise OSError("no /proc here")

    monkeypatch.setattr(estimate, "open", no_proc, raising=False)
    monkeypatch.setattr(estimate, "peak_resident_bytes", lambda: 12345)
    assert estimate.resident_bytes() == 12345


def test_resident_bytes_reads_something_on_this_machine():
    now = estimate.resident_bytes()
    if now is None:
        pytest.skip("neither /proc nor resource here")
    assert now > 0


def test_run_json_states_the_baseline_the_network_and_the_measured_peak(runner):
    result = runner.invoke(cli, ["run", "--format", "json", "specs/lenet5.txt"])
    assert result.exit_code == 0, result.output
    totals = json.loads(result.stdout)["totals"]
    network = max(totals["peak_bytes"], totals["param_bytes"] + totals["setup_bytes"])
    assert totals["peak_bytes"] == 713_664 and totals["setup_bytes"] == 2 * POOL * 4
    assert totals["baseline_bytes"] > 0
    assert totals["estimated_peak_bytes"] == totals["baseline_bytes"] + network
    assert totals["measured_peak_bytes"] > 0
    use = totals["threads"]
    assert set(use) == {"blas", "blas_library", "cnncalc", "from"}
    assert use["cnncalc"] >= 1


def test_the_note_shows_both_parts_and_the_measured_peak(runner, monkeypatch):
    monkeypatch.setattr(run_module, "resident_bytes", lambda: 40 * 2**20)
    monkeypatch.setattr(run_module, "peak_resident_bytes", lambda: 41 * 2**20)
    result = runner.invoke(cli, ["run", "--width", "400", "specs/lenet5.txt"])
    assert result.exit_code == 0, result.output
    assert ("Estimated peak memory 42.2 MiB (the interpreter and libraries 40 MiB + this "
            "network 2.24 MiB, within its limit of ") in result.stdout
    assert "; measured peak 41 MiB." in result.stdout


def test_the_guard_limits_the_network_not_the_interpreter(runner, monkeypatch, tmp_path):
    """The limit is on what the run would add: a network of a few KiB runs under a limit the
    interpreter alone exceeds (it is resident already, and the default limit, half of
    MemAvailable, is net of it), and a refusal names the network's figure, exact, and the
    interpreter's apart."""
    monkeypatch.setattr(run_module, "resident_bytes", lambda: 100 * 2**20)
    tiny = tmp_path / "tiny.txt"
    tiny.write_text("[8x8x3] INPUT\nCONV1: 4 3x3 filters\n", encoding="utf-8")
    result = runner.invoke(cli, ["run", "--max-memory", "50M", "--width", "400", str(tiny)])
    assert result.exit_code == 0, result.output
    assert "(the interpreter and libraries 100 MiB + this network " in result.stdout
    assert ", within its limit of 50 MiB)" in result.stdout
    result = runner.invoke(cli, ["run", "--max-memory", "1K", str(tiny)])
    assert result.exit_code == 2
    est = memory_estimate(plan(load(str(tiny))).modules, (8, 8, 3), 1, 4)
    first = result.stderr.splitlines()[0]
    assert (f"the network's estimated peak memory is {human_bytes(est.network_bytes)} "
            f"({est.network_bytes:,} bytes) at batch 1 in float32, above the limit of 1 KiB "
            "(1,024 bytes)") in first
    assert ("the interpreter and libraries, 100 MiB, come on top (resident already: the limit "
            "is on the network's part)") in result.stderr


# --- threads ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("env", "want", "source"), [
    ({}, None, threads.CPUS),
    ({"OPENBLAS_NUM_THREADS": "3", "OMP_NUM_THREADS": "1"}, 3, "OPENBLAS_NUM_THREADS=3"),
    ({"GOTO_NUM_THREADS": "2", "OMP_NUM_THREADS": "1"}, 2, "GOTO_NUM_THREADS=2"),
    ({"OMP_NUM_THREADS": "2"}, 2, "OMP_NUM_THREADS=2"),
    ({"OPENBLAS_NUM_THREADS": "64"}, 8, "OPENBLAS_NUM_THREADS=64"),
    ({"OPENBLAS_NUM_THREADS": "0", "OMP_NUM_THREADS": "1"}, 1, "OMP_NUM_THREADS=1"),
    ({"OPENBLAS_NUM_THREADS": "two"}, None, threads.CPUS),
])
def test_one_thread_count_for_the_kernels_and_the_weights(clean_env, env, want, source):
    for var, value in env.items():
        clean_env.setenv(var, value)
    expected = want if want is not None else min(threads.cpus(), threads.MAX_THREADS)
    assert threads.threads() == depthwise.threads() == expected
    assert WeightSource(np.random.default_rng(0), np.dtype("float32")).threads == expected
    assert threads.thread_use().source == source


@pytest.mark.parametrize(("env", "cpus", "blas"), [
    ({}, 2, 2),
    ({"OPENBLAS_NUM_THREADS": "1"}, 2, 1),
    ({"OPENBLAS_NUM_THREADS": "4"}, 2, 2),  # OpenBLAS caps the request at the CPUs
    ({}, 128, 64),  # and at the MAX_THREADS it was built with
])
def test_openblas_threads_as_openblas_counts_them(clean_env, env, cpus, blas):
    for var, value in env.items():
        clean_env.setenv(var, value)
    clean_env.setattr(threads, "cpus", lambda: cpus)
    clean_env.setattr(threads, "blas_config", lambda: ("scipy-openblas", 64))
    assert threads.thread_use().blas == blas


def test_another_blas_has_no_thread_count(clean_env):
    clean_env.setattr(threads, "cpus", lambda: 4)
    clean_env.setattr(threads, "blas_config", lambda: ("accelerate", None))
    use = threads.thread_use()
    assert use.blas is None and use.own == 4
    assert use.describe() == ("4 threads of cnncalc's own (the CPUs available); NumPy's BLAS "
                              "(accelerate) threads not known")


@pytest.mark.parametrize(("use", "text"), [
    (threads.ThreadUse(2, "scipy-openblas", 2, "OPENBLAS_NUM_THREADS=2"),
     "2 threads (OPENBLAS_NUM_THREADS=2)"),
    (threads.ThreadUse(1, "scipy-openblas", 1, threads.CPUS), "1 thread (the CPUs available)"),
    (threads.ThreadUse(2, "scipy-openblas", 3, "OPENBLAS_NUM_THREADS=3"),
     "BLAS 2 threads (OPENBLAS_NUM_THREADS=3, capped by OpenBLAS at 2 CPUs), cnncalc's own "
     "3 threads (OPENBLAS_NUM_THREADS=3, at most 8)"),
])
def test_the_threads_described(use, text):
    assert use.describe() == text


def test_this_numpy_names_its_blas():
    name, _ = threads.blas_config()
    assert name is None or isinstance(name, str)


def test_run_reports_the_threads(runner, clean_env):
    clean_env.setenv("OPENBLAS_NUM_THREADS", "1")
    result = runner.invoke(cli, ["run", "--width", "400", "specs/lenet5.txt"])
    assert result.exit_code == 0, result.output
    use = threads.thread_use()
    assert f"(float32, test mode, seed 0) on {use.describe()}: " in result.stdout
    code = runner.invoke(cli, ["run", "--format", "json", "specs/lenet5.txt"])
    totals = json.loads(code.stdout)["totals"]
    assert totals["threads"]["cnncalc"] == 1
    assert totals["threads"]["from"] == "OPENBLAS_NUM_THREADS=1"
