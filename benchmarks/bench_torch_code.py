"""Benchmark reading PyTorch model code (issue 13, part 7): a model file of about 200 lines,
read and analysed by a whole `cnncalc show` process, against `cnncalc show specs/alexnet.txt`,
side by side in this one run.

    python benchmarks/bench_torch_code.py [--runs N]

The model file is made from two fixtures of tests/fixtures/torch_code: MobileNetV2 (a
ModuleList of stages, blocks built in loops, 152 layers at 224x224x3) and the U-Net's
classes above it (read, not built), about 230 lines. Both commands run with `--format json`
(the same rendering work per row) and as tables. Figures are medians; the target is a ratio
of at most 1.5 (PASS/FAIL), and the exit status is 0 either way.
"""

from __future__ import annotations

import argparse
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


def timed(args: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "cnncalc", "show", *args], cwd=ROOT,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    took = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"cnncalc show {' '.join(args)} failed: {done.stderr.decode()}")
    return took


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as tmp:
        path, lines = model_file(Path(tmp))
        print(f"model file: {lines} lines (MobileNetV2 with the U-Net's classes), "
              f"{runs} runs each, interleaved")
        for fmt in ("json", "table"):
            extra = ["--format", "json"] if fmt == "json" else []
            code, alex = [], []
            for _ in range(runs):
                code.append(timed([*extra, str(path)]))
                alex.append(timed([*extra, "specs/alexnet.txt"]))
            c, a = statistics.median(code), statistics.median(alex)
            ratio = c / a
            print(f"{fmt:5}: model code {c * 1e3:7.1f} ms, specs/alexnet.txt {a * 1e3:7.1f} ms, "
                  f"ratio {ratio:.2f} (target <= {TARGET}) "
                  f"{'PASS' if ratio <= TARGET else 'FAIL'}")


if __name__ == "__main__":
    main()
