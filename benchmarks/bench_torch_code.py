"""Benchmark reading PyTorch model code (issue 13, part 7): a model file of about 200 lines,
read and analysed by a whole `cnncalc show` process, against `cnncalc show specs/alexnet.txt`,
side by side in this one run.

    python benchmarks/bench_torch_code.py [--runs N]

The model file is made from two fixtures of tests/fixtures/torch_code: MobileNetV2 (a
ModuleList of stages, blocks built in loops, 152 layers at 224x224x3) and the U-Net's
classes above it (read, not built), about 230 lines. Both commands run with `--format json`
(the same rendering work per row) and as tables, in two environments as bench_show.py does:
the inherited one (here PYTHONDONTWRITEBYTECODE=1: every module compiled at each start) and
one that caches bytecode in a temporary PYTHONPYCACHEPREFIX, as an installed copy has .pyc
files. Figures are medians (paired: the median of each round's ratio, which a change of load
between rounds does not move); the target is a ratio of at most 1.5 (PASS/FAIL), judged with
bytecode cached; the exit status is 0 either way.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "torch_code"
TARGET = 1.5


def model_file(folder: Path) -> tuple[Path, int]:
    unet = (FIXTURES / "unet.py").read_text(encoding="utf-8")
    unet = unet.replace("model = UNet(n_channels=3, n_classes=2, bilinear=True)\n", "")
    text = (FIXTURES / "mobilenet_v2.py").read_text(encoding="utf-8").replace(
        "\nmodel = MobileNetV2()", "\n" + unet + "\n\nmodel = MobileNetV2()")
    path = folder / "model.py"
    path.write_text(text, encoding="utf-8")
    return path, text.count("\n")


def timed(args: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "cnncalc", "show", *args], cwd=ROOT, env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    took = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"cnncalc show {' '.join(args)} failed: {done.stderr.decode()}")
    return took


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as tmp, \
            tempfile.TemporaryDirectory(prefix="cnncalc-pyc-") as prefix:
        path, lines = model_file(Path(tmp))
        cached = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        cached["PYTHONPYCACHEPREFIX"] = prefix
        envs = {"inherited": dict(os.environ), "bytecode cached": cached}
        print(f"model file: {lines} lines (MobileNetV2 with the U-Net's classes), "
              f"{runs} runs each, interleaved; inherited PYTHONDONTWRITEBYTECODE="
              f"{os.environ.get('PYTHONDONTWRITEBYTECODE')!r}")
        for env_name, env in envs.items():
            for fmt in ("json", "table"):
                extra = ["--format", "json"] if fmt == "json" else []
                timed([*extra, str(path)], env)  # warm-up: bytecode, page cache
                timed([*extra, "specs/alexnet.txt"], env)
                code, alex = [], []
                for _ in range(runs):
                    code.append(timed([*extra, str(path)], env))
                    alex.append(timed([*extra, "specs/alexnet.txt"], env))
                c, a = statistics.median(code), statistics.median(alex)
                ratio = c / a
                paired = statistics.median(x / y for x, y in zip(code, alex, strict=True))
                verdict = ("PASS" if ratio <= TARGET else "FAIL") \
                    if env_name == "bytecode cached" else "(not judged)"
                print(f"{env_name:>15} {fmt:5}: model code {c * 1e3:6.1f} ms, "
                      f"specs/alexnet.txt {a * 1e3:6.1f} ms, ratio {ratio:.2f} (paired "
                      f"{paired:.2f}; target <= {TARGET}) {verdict}")

if __name__ == "__main__":
    main()
