"""Shared helpers for the cnncalc tests: analyse a spec text, list its diagnostics as
(line, col, code) the way linters' test suites do, and look layers up by name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cnncalc.analyze import Analysis, LayerResult, analyze
from cnncalc.parse import parse_text
from cnncalc.render.common import analysis_record

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
GOLDEN = Path(__file__).resolve().parent / "golden"
# the shipped graphs written with blocks (tests/test_graph_specs.py runs them at a small input)
GRAPH_SPECS = ("resnet18.txt", "resnet50.txt", "googlenet.txt", "densenet121.txt",
               "mobilenet_v2.txt", "unet.txt")


def analyze_text(source: str, path: str = "t.txt",
                 input_override: tuple[int, ...] | None = None) -> Analysis:
    """Parse and analyse ``source`` as ``cnncalc show`` does."""
    return analyze(parse_text(source, path), input_override)


def analyze_spec(name: str) -> Analysis:
    """A shipped spec, by file name, with its repository-relative path."""
    return analyze(parse_text((SPECS / name).read_text(encoding="utf-8"), f"specs/{name}"))


def check(source: str) -> list[tuple[int, int, str]]:
    """Every diagnostic of ``source`` as (line, col, code), in the order cnncalc sorts them."""
    return [(d.span.line, d.span.col, d.code) for d in analyze_text(source).diagnostics]


def diag(analysis: Analysis, code: str) -> Any:
    """The one diagnostic with ``code``; fails if there is not exactly one."""
    found = [d for d in analysis.diagnostics if d.code == code]
    assert len(found) == 1, [(d.code, d.message) for d in analysis.diagnostics]
    return found[0]


def layer(analysis: Analysis, name: str) -> LayerResult:
    found = [r for r in analysis.layers if r.layer.name == name]
    assert len(found) == 1, [r.layer.name for r in analysis.layers]
    return found[0]


def record(analysis: Analysis) -> dict[str, Any]:
    """The JSON record (what ``--format json`` prints), as Python objects."""
    return analysis_record(analysis)


def spec_text(input_shape: str, *lines: str) -> str:
    """A small spec: ``[HxWxC] INPUT`` and the given layer lines."""
    return "\n".join([f"[{input_shape}] INPUT", *lines]) + "\n"
