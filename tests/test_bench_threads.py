"""benchmarks/bench_threads.py prints every case it promises, each with a serial time, a
threaded time and their ratio (a smoke run of one timed repeat; times are never asserted)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_case_has_its_figures() -> None:
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_threads.py"),
                           "--repeat", "1"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    rows = {line[:34].strip(): line[34:].split() for line in proc.stdout.splitlines()[2:]}
    assert re.fullmatch(r"\d+\.\d{3}", rows.pop("handoff (jobs doing nothing)")[0])
    calls = [name for name in rows if name.endswith("values")]
    layers = [name for name in rows if name.startswith("depthwise")]
    assert len(calls) == 4 and len(layers) == 6 and len(rows) == 10, rows
    for name, figures in rows.items():
        serial, split, speedup = map(float, figures)
        assert serial > 0 and split > 0, name
        assert abs(speedup - serial / split) <= 0.01 + 0.005 * speedup, name
