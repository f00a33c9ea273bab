"""``cnncalc run``: exit codes (0 all match, 1 a mismatch or a layer not run, 2 usage or the
memory guard), the table, the JSON keys, what goes to stderr, and numpy staying out of
``cnncalc show``."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import pytest
from helpers import ROOT

import cnncalc.commands.run as run_module
from cnncalc.cli import cli
from cnncalc.options import load

SMALL = "[12x12x3] INPUT\nCONV1: 4 3x3 filters, pad 1\nMAX POOL1: 2x2 filters at stride 2\n" \
    "DROPOUT 0.5\nFC1: 10 neurons\nSOFTMAX\n"


def run_json(runner, *args: str, stdin: str | None = None) -> tuple[int, dict, str]:
    result = runner.invoke(cli, ["run", "--format", "json", *args], input=stdin)
    return result.exit_code, json.loads(result.stdout), result.stderr


def test_alexnet_runs_and_every_layer_matches(runner):
    result = runner.invoke(cli, ["run", "--width", "100", "specs/alexnet.txt"])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    out = result.stdout
    assert out.count("✓") == 13 and "✗" not in out
    assert "55x55x96" in out and "62.4M" in out and "1.14G" in out
    assert "All 13 layers run match the analysis" in out
    assert "matrix products performed" in out


def test_json_keys_are_stable(runner):
    code, record, err = run_json(runner, "--batch", "2", "specs/lenet5.txt")
    assert code == 0 and err == ""
    assert {"layers", "totals", "ok"} <= set(record)
    assert record["ok"] is True and record["batch"] == 2 and record["stopped_before"] is None
    first = record["layers"][0]
    assert {"name", "output_shape", "params", "macs", "seconds", "match", "expected_output_shape",
            "expected_params", "expected_macs"} <= set(first)
    assert first["name"] == "CONV1" and first["output_shape"] == [28, 28, 6]
    assert first["params"] == first["expected_params"] == 156
    assert first["macs"] == first["expected_macs"] == 28 * 28 * 6 * 25
    totals = record["totals"]
    assert {"seconds", "peak_bytes"} <= set(totals)
    assert totals["params"] == 61_706
    assert totals["seconds"] == pytest.approx(sum(r["seconds"] for r in record["layers"]))
    assert totals["peak_bytes"] > 61_706 * 4


def test_stdin_train_mode_float64(runner):
    code, record, _ = run_json(runner, "--mode", "train", "--dtype", "float64", "--seed", "3",
                               "-", stdin=SMALL)
    assert code == 0
    assert record["mode"] == "train" and record["dtype"] == "float64" and record["seed"] == 3
    assert [r["name"] for r in record["layers"]] == ["CONV1", "MAX POOL1", "DROPOUT", "FC1",
                                                     "SOFTMAX"]


def test_quiet_prints_nothing_when_everything_matches(runner):
    result = runner.invoke(cli, ["run", "--quiet", "-"], input=SMALL)
    assert result.exit_code == 0 and result.stdout == "" and result.stderr == ""


def test_run_stops_before_a_layer_the_analysis_could_not_compute(runner):
    result = runner.invoke(cli, ["run", "--width", "100", "specs/alexnet224.txt"])
    assert result.exit_code == 1
    assert "[G101 filter-does-not-fit]" in result.stderr
    assert "run stopped before CONV1: the analysis marks it an error" in result.stderr
    assert "not run" in result.stdout
    code, record, _ = run_json(runner, "-", stdin=SMALL.replace("MAX POOL1: 2x2 filters at "
                                                                "stride 2", "CONV2: 4 5x5 filters"
                                                                " at stride 2"))
    assert code == 1
    assert record["ok"] is False
    assert [r["name"] for r in record["layers"]] == ["CONV1"]
    assert record["stopped_before"] == {"index": 2, "name": "CONV2", "line": 3,
                                        "status": "error"}


def test_nothing_runs_past_a_layer_with_an_error(runner):
    """--rounding floor lets AlexNet at 224 compute CONV1, but its declared [55x55x96] is then
    wrong (D201): CONV1 is an error, nothing after it is computed, and run exits 1."""
    code, record, err = run_json(runner, "--rounding", "floor", "specs/alexnet224.txt")
    assert code == 1
    assert record["layers"] == [] and record["stopped_before"]["name"] == "CONV1"
    assert "D201" in err


def test_a_mismatch_names_the_layer_and_both_figures(runner, monkeypatch):
    def wrong_load(*args, **kwargs):
        a = load(*args, **kwargs)
        bad = dataclasses.replace(a.layers[0], macs=a.layers[0].macs + 1)
        return dataclasses.replace(a, layers=(bad, *a.layers[1:]))

    monkeypatch.setattr(run_module, "load", wrong_load)
    result = runner.invoke(cli, ["run", "--width", "100", "specs/lenet5.txt"])
    assert result.exit_code == 1
    assert ("specs/lenet5.txt:5: CONV1: mismatch: MACs: the executor measured 117,600, the "
            "analysis computed 117,601") in result.stderr
    assert "✗" in result.stdout and "1 of 7 layers disagree" in result.stdout


def test_the_memory_guard_refuses_before_allocating(runner, monkeypatch):
    import cnncalc.execute.network as network

    def no_allocation(*args, **kwargs):
        raise AssertionError("the guard let the network be built")

    monkeypatch.setattr(network.Network, "__init__", no_allocation)
    text = "[100000x100000x3] INPUT\nCONV1: 1000 3x3 filters, pad 1\n"
    result = runner.invoke(cli, ["run", "--max-memory", "8G", "-"], input=text)
    assert result.exit_code == 2, result.output
    assert ("refusing to run <stdin>: the network's estimated peak memory is 36.5 TiB"
            in result.stderr)
    assert "above the limit of 8 GiB (8,589,934,592 bytes)" in result.stderr
    assert "the largest layer, CONV1" in result.stderr
    assert result.stdout == ""


def test_the_memory_guard_handles_channels_beyond_any_machine_integer(runner):
    text = f"[8x8x{10**30}] INPUT\nCONV1: 1000 3x3 filters, pad 1\n"
    result = runner.invoke(cli, ["run", "-"], input=text)
    assert result.exit_code == 2
    assert "refusing to run" in result.stderr and "YiB" in result.stderr


def test_the_default_limit_is_half_the_available_memory(runner, monkeypatch):
    monkeypatch.setattr(run_module, "default_limit", lambda: 1000)
    result = runner.invoke(cli, ["run", "-"], input=SMALL)
    assert result.exit_code == 2 and "limit of 1000 B" in result.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["--max-memory", "lots"], "write a size such as 8G"),
    (["--dtype", "float16"], "'float16' is not one of"),
    (["--batch", "0"], "0 is not in the range"),
    (["--mode", "eval"], "'eval' is not one of"),
    (["--seed", "-1"], "-1 is not in the range"),
    (["--format", "csv"], "'csv' is not one of"),
])
def test_usage_problems_exit_2(runner, args, message):
    result = runner.invoke(cli, ["run", *args, "specs/lenet5.txt"])
    assert result.exit_code == 2
    assert message in result.stderr


def test_missing_input_exits_1(runner):
    result = runner.invoke(cli, ["run", "-"], input="CONV1: 4 3x3 filters\n")
    assert result.exit_code == 1
    assert "P004" in result.stderr


def test_progress_bar_only_for_long_runs():
    assert run_module._long(load(str(ROOT / "specs/alexnet.txt")), 1)
    assert not run_module._long(load(str(ROOT / "specs/lenet5.txt")), 1)


def test_show_and_the_cli_never_import_numpy():
    """Importing the CLI loads neither numpy nor rich (the run command imports both lazily);
    running `show` loads rich but not numpy."""
    probe = ("import contextlib, io, sys\n"
             "from cnncalc.cli import main\n"
             "print('numpy' in sys.modules or 'rich' in sys.modules)\n"
             "with contextlib.redirect_stdout(io.StringIO()):\n"
             "    try:\n"
             "        main(['show', 'specs/alexnet.txt'])\n"
             "    except SystemExit:\n"
             "        pass\n"
             "print('numpy' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


# ---- values that overflow: no NumPy warning, a note instead ----

# 300 dense layers without activations: each doubles the variance (He-uniform weights), so
# float32 overflows near layer 128 and float64 (2**300 < 1.8e308) does not
DEEP = "[64] INPUT\n" + "".join(f"FC{i}: 64 neurons\n" for i in range(300))


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_overflow_warns_nothing_raw(runner, fmt):
    import warnings

    import numpy as np

    before = np.geterr()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = runner.invoke(cli, ["run", "--format", fmt, "-q", "-"], input=DEEP)
    assert result.exit_code == 0, result.stderr
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)]
    assert np.geterr() == before  # errstate was scoped to the executor
    (note,) = result.stderr.splitlines()
    assert note.startswith("cnncalc run: <stdin>:") and "note: from this layer on" in note
    assert "overflowed to inf or nan" in note and "RuntimeWarning" not in result.stderr


def test_no_note_when_values_stay_finite(runner):
    result = runner.invoke(cli, ["run", "-q", "--dtype", "float64", "-"], input=DEEP)
    assert result.exit_code == 0 and result.stderr == ""


def test_overflow_in_a_real_process_prints_no_warning(tmp_path):
    spec = tmp_path / "deep.txt"
    spec.write_text(DEEP, encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "cnncalc", "run", "-q", str(spec)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0
    assert "Warning" not in done.stderr and "overflow encountered" not in done.stderr
    assert done.stderr.count("\n") == 1 and "note: from this layer on" in done.stderr


def test_an_estimate_too_long_to_write_is_refused_in_words(runner) -> None:
    """Found by the fuzzer: a stride of 150 digits gives a scratch estimate of ~8,400 digits,
    more than Python writes as text; the guard refuses it with a power of two."""
    from cnncalc.render.memory import exact_bytes, human_bytes

    text = ("[32x32x3] INPUT\nCONV1: 8 3x3 filters at stride 1, pad 1\n"
            f"CONV2: 8 3x3 filters at stride 1{'0' * 150}, pad 1\n")
    result = runner.invoke(cli, ["run", "-"], input=text)
    assert result.exit_code in (1, 2), result.output  # refused or an error: never a traceback
    assert "internal error" not in result.output and "Traceback" not in result.output
    assert human_bytes(2**20_000 + 5) == "more than 2**20,000 B"
    assert exact_bytes(3_579_904) == "3,579,904 bytes"


def test_run_leaves_out_warnings_an_ignore_comment_silences_as_show_does(runner) -> None:
    text = ("ROUNDING: floor\n[10x10x3] INPUT\n"
            "CONV1: 4 3x3 filters at stride 2, pad 1{}\n")  # (10 - 3 + 2)/2 + 1 = 5.5: G107
    loud = runner.invoke(cli, ["run", "-"], input=text.format(""))
    assert loud.exit_code == 0 and "[G107 rounded]" in loud.stderr
    quiet = runner.invoke(cli, ["run", "-"], input=text.format("  # cnncalc: ignore[G107]"))
    assert quiet.exit_code == 0 and "G107" not in quiet.stderr
