"""``cnncalc run`` on graph networks: the table says which layers a layer reads, the run output
gives the measured peak of live activations beside the analysis's estimate and the sum of all
outputs, and a peak that differs from the estimate fails the run."""

from __future__ import annotations

import dataclasses
import json

from helpers import analyze_text
from test_execute_graph import RESIDUAL, UNET

from cnncalc.cli import cli
from cnncalc.execute.estimate import Estimate
from cnncalc.execute.report import RunReport, make_row, messages, summary, to_record


def test_a_residual_network_runs_and_says_what_each_layer_reads(runner, tmp_path):
    spec = tmp_path / "res.txt"
    spec.write_text(RESIDUAL, encoding="utf-8")
    result = runner.invoke(cli, ["run", "--width", "120", str(spec)])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    out = result.stdout
    assert out.count("✓") == 12 and "✗" not in out
    header = next(line for line in out.splitlines() if line.lstrip().startswith("#"))
    assert header.split() == ["#", "name", "layer", "from", "output", "params", "MACs", "ms"]
    add_row = next(line for line in out.splitlines() if line.split()[:2] == ["6", "ADD"])
    assert " 5,0 " in add_row
    relu_row = next(line for line in out.splitlines() if line.split()[:2] == ["7", "RELU2"])
    assert relu_row.split()[3] == "9x9x4"  # reads the layer above: the from cell is empty
    text = " ".join(out.split())
    assert ("the peak of live tensors the executor measured, 972 elements, equals the "
            "analysis's inference-memory estimate; the sum of all outputs would be") in text
    assert "from = the layers (#) a layer reads when not the one above (0: the input)" in text


def test_json_gives_the_inputs_and_both_peaks(runner, tmp_path):
    spec = tmp_path / "unet.txt"
    spec.write_text(UNET, encoding="utf-8")
    result = runner.invoke(cli, ["run", "--format", "json", "--batch", "3", str(spec)])
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    a = analyze_text(UNET)
    assert a.totals is not None
    layers = {r["name"]: r for r in record["layers"]}
    assert layers["CONCAT"]["inputs"] == [8, 7] and layers["CONV1"]["inputs"] == [0]
    assert layers["CONV3"]["live_activations"] == 1296 + 1568 + 784
    totals = record["totals"]
    assert totals["peak_activations"] == totals["expected_peak_activations"] == 3648
    assert totals["expected_peak_activations"] == a.totals.peak_activations
    assert totals["activations"] == a.totals.activations
    assert record["ok"] is True


def test_a_chain_table_has_no_from_column(runner):
    result = runner.invoke(cli, ["run", "--width", "120", "specs/lenet5.txt"])
    assert result.exit_code == 0
    header = next(line for line in result.stdout.splitlines() if line.lstrip().startswith("#"))
    assert "from" not in header.split()
    assert "equals the analysis's inference-memory estimate" in " ".join(result.stdout.split())


def _report(peak: int | None, **changes: object) -> RunReport:
    a = analyze_text(RESIDUAL)
    rows = tuple(make_row(r, r.output_shape or (), r.params or 0, r.buffers or 0, r.macs or 0,
                          0.0) for r in a.layers)
    report = RunReport(a, rows, Estimate(0, 0, ()), 1 << 30, 1, "float32", "test", 0,
                       peak=peak)
    return dataclasses.replace(report, **changes)  # type: ignore[arg-type]


def test_a_peak_that_differs_from_the_estimate_fails_the_confirmation():
    good, bad = _report(972), _report(1296)
    assert good.ok and good.peak_matches and messages(good) == []
    assert not bad.ok and not bad.peak_matches
    assert messages(bad) == ["t.txt: mismatch: peak of live activations: the executor held "
                             "1,296 elements per example at once, the analysis estimated 972"]
    assert "1,296 elements, DIFFERS from the analysis's inference-memory estimate, 972" in \
        summary(bad)
    assert to_record(bad)["ok"] is False


def test_a_run_that_stopped_early_does_not_compare_the_peak():
    a = analyze_text(RESIDUAL)
    partial = _report(500, rows=_report(500).rows[:4], stop=a.layers[4])
    assert partial.expected_peak is None and partial.peak_matches
    assert "is not compared (the run did not cover the whole network)" in summary(partial)
    assert to_record(partial)["totals"]["expected_peak_activations"] is None
