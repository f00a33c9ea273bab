"""The Keras fixtures (tests/fixtures/keras/): model files written as the keras.io examples
write them, and figures.json, the figures Keras computes for each (made by generate.py there).

The Sequential models are read exactly: every layer's volume, params, buffers and MACs, and
the totals, are Keras's (a SeparableConv2D is two rows in cnncalc, summed here). So are the
functional models (a residual ``layers.add``, Inception's ``Concatenate``, squeeze-and-
excitation's ``multiply``), read by cnncalc.parse.keras_code; their layers are compared by
name, since Keras lists a functional model's layers by depth and cnncalc in call order
(tests/test_keras_functional.py checks the wiring too).
With Keras installed, the figures are made again and compared with the file."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from helpers import ROOT

from cnncalc.analyze import Analysis, analyze
from cnncalc.parse import parse_text

KERAS = ROOT / "tests" / "fixtures" / "keras"
RECORD = json.loads((KERAS / "figures.json").read_text(encoding="utf-8"))
FIGURES: dict[str, dict[str, Any]] = RECORD["models"]
SEQUENTIAL = sorted(n for n, f in FIGURES.items() if not f["functional"])
FUNCTIONAL = sorted(n for n, f in FIGURES.items() if f["functional"])
# what Keras's model.summary() printed for each (total, trainable, non-trainable)
SUMMARY = {"mnist_convnet": (34_826, 34_826, 0), "separable_convnet": (18_684, 18_261, 423),
           "residual_add": (1_493_441, 1_489_729, 3_712),
           "inception_block": (797_882, 794_730, 3_152), "se_block": (101_098, 100_650, 448)}


def _analysis(name: str) -> Analysis:
    path = f"tests/fixtures/keras/{name}.py"
    return analyze(parse_text((KERAS / f"{name}.py").read_text(encoding="utf-8"), path))


def _by_keras_layer(a: Analysis) -> list[dict[str, Any]]:
    """cnncalc's rows grouped by the Keras layer that made them (``sep/depthwise`` and
    ``sep/pointwise`` are Keras's ``sep``): figures summed, the last row's volume."""
    grouped: dict[str, dict[str, Any]] = {}
    for r in a.layers:
        g = grouped.setdefault(r.layer.name.split("/")[0], {
            "name": r.layer.name.split("/")[0], "params": 0, "buffers": 0, "macs": 0})
        g["params"] += r.params
        g["buffers"] += r.buffers
        g["macs"] += r.macs
        g["output"] = list(r.output_shape or ())
    return list(grouped.values())


def test_the_fixtures_are_all_there() -> None:
    assert set(FIGURES) == set(SUMMARY) == {p.stem for p in KERAS.glob("*.py")} - {"generate"}
    assert FUNCTIONAL == ["inception_block", "residual_add", "se_block"]


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_the_figures_are_consistent(name: str) -> None:
    """Totals are the sums of the layers; Keras's total is params + buffers + counters (as its
    summary printed it); the last layer gives the output; merges read two or more layers."""
    f = FIGURES[name]
    rows = f["layers"]
    for key in ("params", "buffers", "counters", "macs"):
        assert f[key] == sum(r[key] for r in rows), key
    assert (f["keras_total"], f["keras_trainable"], f["keras_non_trainable"]) == SUMMARY[name]
    assert f["keras_total"] == f["params"] + f["buffers"] + f["counters"]
    assert f["keras_trainable"] == f["params"]
    assert f["keras_non_trainable"] == f["buffers"] + f["counters"]
    assert rows[-1]["output"] == f["output"]
    assert len({r["name"] for r in rows}) == len(rows)
    assert all(r["macs"] == 0 for r in rows if r["params"] == 0)
    if f["functional"]:
        seen = {"input_layer"}
        for r in rows:
            assert set(r["inputs"]) <= seen, r  # topological order
            assert (len(r["inputs"]) >= 2) == (r["class"] in ("Add", "Concatenate", "Multiply"))
            seen.add(r["name"])


@pytest.mark.parametrize("name", SEQUENTIAL)
def test_sequential_fixtures_are_read_exactly(name: str) -> None:
    f = FIGURES[name]
    a = _analysis(name)
    assert a.spec.notation == "keras"
    assert a.ok and not [d for d in a.diagnostics if d.severity == "error"]
    assert list(a.spec.input or ()) == f["input"]
    expected = [{k: r[k] for k in ("name", "params", "buffers", "macs", "output")}
                for r in f["layers"]]
    assert _by_keras_layer(a) == expected
    t = a.totals
    assert t is not None and t.assumed == ()
    assert (t.params, t.buffers, t.macs) == (f["params"], f["buffers"], f["macs"])
    assert list(a.layers[-1].output_shape or ()) == f["output"]


@pytest.mark.parametrize("name", SEQUENTIAL + FUNCTIONAL)
def test_cnncalc_run_confirms_the_fixtures(runner: Any, name: str) -> None:
    """The NumPy executor measures every layer as the analysis (and Keras) says, for the
    Sequential fixtures and the functional ones (read by cnncalc.parse.keras_code)."""
    from cnncalc.cli import cli

    result = runner.invoke(cli, ["run", "--format", "json", "-q",
                                 f"tests/fixtures/keras/{name}.py"])
    assert result.exit_code == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["ok"] and record["failed"] is None
    assert [row["mismatches"] for row in record["layers"] if not row["match"]] == []
    f = FIGURES[name]
    totals = record["totals"]
    assert (totals["params"], totals["buffers"], totals["macs"]) == (
        f["params"], f["buffers"], f["macs"])


@pytest.mark.parametrize("name", SEQUENTIAL)
def test_the_sequential_fixtures_read_back_from_the_canonical_notation(
        runner: Any, name: str) -> None:
    """``--format spec`` writes each as cnncalc's notation, which reads as the same figures."""
    from cnncalc.cli import cli

    result = runner.invoke(cli, ["show", "--format", "spec", f"tests/fixtures/keras/{name}.py"])
    assert result.exit_code == 0, result.stderr
    a = analyze(parse_text(result.stdout, "canonical.txt"))
    assert a.spec.notation == "lecture" and a.ok
    f = FIGURES[name]
    assert _by_keras_layer(a) == [{k: r[k] for k in ("name", "params", "buffers", "macs",
                                                     "output")} for r in f["layers"]]


@pytest.mark.parametrize("name", FUNCTIONAL)
def test_functional_fixtures_are_read_exactly(name: str) -> None:
    f = FIGURES[name]
    a = _analysis(name)
    assert a.ok
    by_name = sorted(_by_keras_layer(a), key=lambda r: r["name"])
    assert by_name == sorted(({k: r[k] for k in ("name", "params", "buffers", "macs", "output")}
                              for r in f["layers"]), key=lambda r: r["name"])
    t = a.totals
    assert t is not None and (t.params, t.buffers, t.macs) == (f["params"], f["buffers"],
                                                              f["macs"])


def test_keras_computes_the_same_figures() -> None:
    """Keras itself, where it is installed (with a backend): generate.py's figures, made
    again, are the file's."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    pytest.importorskip("keras")
    import importlib.util

    spec = importlib.util.spec_from_file_location("keras_fixtures", KERAS / "generate.py")
    assert spec is not None and spec.loader is not None
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    for name, f in FIGURES.items():
        assert generate.figures(generate.build(name), f["functional"]) == f, name
