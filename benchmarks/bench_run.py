"""Benchmark `cnncalc run`'s NumPy executor against PyTorch and NumPy's own matmul and copy.

    python benchmarks/bench_run.py [--quick] [--runs N] [--threads 1,2]
                                   [--configs alexnet:1,vgg16:8,...] [--no-torch]

With torch (torch is never a dependency of cnncalc; a Python with both is made from two
environments):

    PYTHONPATH=/tmp/tv/lib/python3.11/site-packages .venv/bin/python benchmarks/bench_run.py

Method. For each thread count, and in it each configuration (AlexNet, VGG-16 and MobileNetV1,
ResNet-50 and MobileNetV2, at batch 1 and 8), the executor runs in a process of its own
(``bench_run_executor.py``), started with ``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS`` and
``MKL_NUM_THREADS`` set, so that NumPy's BLAS reads them when it loads; its peak RSS is its
own. PyTorch runs in another process (``bench_run_torch.py``, one per thread count) with the
same variables and ``torch.set_num_threads``: the chain specs as a ``Sequential`` built from
the executor's planned layers, ResNet-50 and MobileNetV2 as torchvision's models (random
weights, eval mode). Its model must have the analysis's parameter count and output shape, or
no torch figure is printed and the exit status is 1: we never compare against another
network. This process conducts: executor turn, torch turn, executor turn, ... each after a
pause of 0.3 s so that the other side's spinning threads are idle; the processes never run
at once. Both report the threads they really use (OpenBLAS's own count or threadpoolctl's;
``torch.get_num_threads()``).

An executor turn is the forward pass, then, on arrays of the same shapes, every ``np.matmul``
the forward pass performed (recorded in the warm-up, chunk by chunk, so the reference is
exactly the executor's products whatever its chunking), then ``np.copyto`` of the bytes each
depthwise layer must move (input read once, output written once). Printed per configuration:

- the median forward time [min-max] and GFLOP/s (FLOPs = 2 x MACs) of both, and executor /
  torch as the median of the per-pair ratios, against the issue's targets (VGG-16 and AlexNet
  <= 1.0; MobileNetV1/V2 and ResNet-50 <= 1.2);
- per layer class (conv: F > 1; pointwise: 1x1; depthwise: one input channel per group; fc;
  other): time, share of the forward, MACs, GFLOP/s, and for conv, pointwise and fc the share
  of NumPy's matmul speed on the same products (target >= 75%); for depthwise its GB/s
  against ``np.copyto`` (one thread) of the same bytes;
- the network's first conv and the small-K convs (F > 1 and Fh*Fw*C below 100, such as VGG's
  CONV1_1) one by one, the same way;
- the peak RSS (``ru_maxrss`` after the warm-up, before any reference array is made) against
  the memory guard's estimate (target: within 1.2x): the network's peak plus the baseline,
  the RSS measured after the imports, as ``cnncalc run`` adds it (where the estimate has a
  ``baseline_bytes``; else the network's peak alone).

A summary table ends the report. Each configuration has 5 timed pairs, fewer (at least 3)
once its pairs have taken 20 s; ``--quick`` 3, at least 2 after 10 s; ``--runs N`` exactly N.
Torch builds and warms up its model while the executor does (nothing is timed then). On this
2-core machine, shared with other sessions (the load average is printed with each
configuration, and the share of the CPUs other processes took during its timed turns), a
quiet run took 2.6 minutes and ``--quick`` 1.8; with another session taking half the CPUs,
4.2 and 3.0-3.5. VGG-16 at batch 8 is nearly half of any run. The executor uses the NumPy
this Python finds (printed).

Figures are printed; the exit status is 0 unless a worker failed or a torch model differed
(tests never assert times).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench_run_report import Result, print_config, print_summary

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CONFIGS = ("alexnet:1", "alexnet:8", "vgg16:1", "vgg16:8", "mobilenet_v1:1", "mobilenet_v1:8",
           "resnet50:1", "resnet50:8", "mobilenet_v2:1", "mobilenet_v2:8")
THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


@dataclass(frozen=True)
class RunPlan:
    """Timed pairs per configuration: ``runs``, or fewer, at least ``least``, once they have
    taken ``budget`` seconds (None: exactly ``runs``)."""

    runs: int
    least: int
    budget: float | None


DEFAULT, QUICK = RunPlan(5, 3, 20.0), RunPlan(3, 2, 10.0)


class WorkerError(RuntimeError):
    """A worker process ended or failed before answering."""


class Worker:
    """A child process spoken to in JSON lines: one request, one answer."""

    def __init__(self, script: str, args: list[str], threads: int) -> None:
        env = dict(os.environ, **{var: str(threads) for var in THREAD_VARS})
        self.name = script
        self.proc = subprocess.Popen([sys.executable, str(HERE / script), *args], cwd=ROOT,
                                     env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True)

    def read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise WorkerError(f"{self.name} ended (exit status {self.proc.wait()})")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def send(self, request: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps(request) + "\n")
            self.proc.stdin.flush()
        except BrokenPipeError as exc:
            raise WorkerError(f"{self.name} ended (exit status {self.proc.wait()})") from exc

    def ask(self, request: dict[str, Any]) -> dict[str, Any]:
        self.send(request)
        return self.read()

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait()


def request_model(worker: Worker, described: dict[str, Any], batch: int) -> str:
    """Asks the torch worker to build the configuration's model (its answer is read later);
    a note when there is no model to ask for, else ''."""
    if "error" in described["torch"]:
        return f"no torch model: {described['torch']['error']}"
    h, w, c = described["input"]
    worker.send({"model": described["torch"], "input": [c, h, w], "batch": batch})
    return ""


def check_model(answer: dict[str, Any], model: dict[str, Any], ready: dict[str, Any]
                ) -> tuple[dict[str, Any] | None, str, str]:
    """(torch's answer if it can be compared, a note, a mismatch with the analysis). A
    mismatch means no torch figures: another network is not compared."""
    if "error" in answer:
        return None, f"no torch model: {answer['error']}", ""
    out = answer["output"]
    out = [out[1], out[2], out[0]] if len(out) == 3 else out  # NCHW -> HWC
    kind = f"torchvision.models.{model['torchvision']}" if "torchvision" in model else \
        "a Sequential of the executor's layers"
    threads = answer["threads"]
    note = (f"torch {answer['torch']} ({kind}), {threads} thread{'s' * (threads != 1)} "
            f"(torch.get_num_threads); {answer['params']:,} params, output {out}")
    if answer["params"] != ready["params"] or out != ready["output"]:
        return None, note, (f"torch's model has {answer['params']:,} params and output {out}; "
                            f"the analysis {ready['params']:,} and the executor "
                            f"{ready['output']}")
    return answer, note + ": as the analysis and the executor", ""


def bench_config(config: str, threads: int, plan: RunPlan, torch: Worker | None,
                 torch_note: str) -> Result:
    """Both sides built (at once), then ``plan.runs`` timed pairs, or fewer, at least
    ``plan.least``, once the pairs have taken ``plan.budget`` seconds."""
    name, batch = config.split(":")
    start = time.perf_counter()
    executor = Worker("bench_run_executor.py", [name, batch], threads)
    pending = False  # a model request whose answer torch has not given yet
    try:
        described = executor.read()
        if torch is not None:
            refused = request_model(torch, described, int(batch))
            pending, torch_note = not refused, refused or torch_note
        result = Result(config, threads, executor.read(), torch_note=torch_note)
        if pending and torch is not None:
            pending = False
            result.torch, result.torch_note, result.mismatch = check_model(
                torch.read(), described["torch"], result.ready)
        ours = [executor] + ([torch] if torch is not None else [])
        before, turns_start = others_cpu(ours), time.perf_counter()
        for n in range(plan.runs):
            if plan.budget and n >= plan.least and \
                    time.perf_counter() - turns_start > plan.budget:
                break
            result.turns.append(executor.ask({"go": True}))
            if result.torch is not None and torch is not None:
                result.torch_times.append(torch.ask({"go": True})["seconds"])
        after = others_cpu(ours)
        if before is not None and after is not None:
            result.others = max(0.0, after - before) / ((time.perf_counter() - turns_start)
                                                        * (os.cpu_count() or 1))
    finally:
        executor.close()
        if pending and torch is not None:
            torch.read()  # the executor failed: torch's answer must not go to the next one
    result.seconds = time.perf_counter() - start
    return result


def others_cpu(ours: list[Worker]) -> float | None:
    """CPU seconds the machine has spent busy (``/proc/stat``) less those of this process
    and ``ours``: the work of everything else, which competes with the timed runs; None
    where /proc cannot be read. Counted in clock ticks (10 ms), so a quiet machine can come
    out a tick or two below zero."""
    try:
        with open("/proc/stat", encoding="ascii") as fh:
            ticks = [int(v) for v in fh.readline().split()[1:9]]
        busy = sum(ticks) - ticks[3] - ticks[4]  # all but idle and iowait
        for worker in ours:
            with open(f"/proc/{worker.proc.pid}/stat", encoding="ascii") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            busy -= int(fields[11]) + int(fields[12])  # utime, stime
    except (OSError, ValueError, IndexError):
        return None
    own = os.times()
    return busy / os.sysconf("SC_CLK_TCK") - own.user - own.system


def header(torch_note: str) -> None:
    import cnncalc

    print(f"{time.strftime('%Y-%m-%d %H:%M:%S %Z')}; Python {platform.python_version()}; "
          f"cnncalc from {Path(cnncalc.__file__).parent}; {torch_note}; load average "
          f"{' '.join(f'{v:.2f}' for v in os.getloadavg())} on {os.cpu_count()} CPUs")


def start_torch(no_torch: bool, threads: int) -> tuple[Worker | None, str]:
    if no_torch:
        return None, "torch off (--no-torch): executor-only figures"
    if importlib.util.find_spec("torch") is None:
        return None, "torch is not importable: executor-only figures"
    worker = Worker("bench_run_torch.py", [str(threads)], threads)
    try:
        hello = worker.read()
    except WorkerError as exc:
        return None, f"torch failed to start ({exc}): executor-only figures"
    return worker, f"torch {hello['torch']}, {hello['threads']} threads"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK.runs} pairs per configuration, at least {QUICK.least} "
                        f"once they have taken {QUICK.budget:.0f} s")
    parser.add_argument("--runs", type=int, help=f"timed pairs per configuration (default: "
                        f"{DEFAULT.runs}, fewer, but at least {DEFAULT.least}, once they have "
                        f"taken {DEFAULT.budget:.0f} s)")
    parser.add_argument("--threads", default="1,2", help="thread counts, e.g. 1,2")
    parser.add_argument("--configs", default=",".join(CONFIGS),
                        help="NAME:BATCH,... with NAME a spec in specs/ (specs/NAME.txt)")
    parser.add_argument("--no-torch", action="store_true", help="time the executor alone")
    args = parser.parse_args()
    args.plan = RunPlan(args.runs, args.runs, None) if args.runs is not None else \
        QUICK if args.quick else DEFAULT
    for config in args.configs.split(","):
        name, _, batch = config.partition(":")
        if not (ROOT / "specs" / f"{name}.txt").is_file() or not positive(batch):
            parser.error(f"{config!r}: write NAME:BATCH with a spec specs/NAME.txt")
    if not all(positive(t) for t in args.threads.split(",")) or args.plan.runs < 1:
        parser.error("--threads takes counts such as 1,2 and --runs a count of at least 1")
    return args


def positive(text: str) -> bool:
    return text.isdigit() and int(text) > 0


def main() -> int:
    args = parse_args()
    header("torch off (--no-torch)" if args.no_torch else
           "torch importable" if importlib.util.find_spec("torch") else "torch not importable")
    results: list[Result] = []
    failed = False
    for threads in (int(t) for t in args.threads.split(",")):
        torch, note = start_torch(args.no_torch, threads)
        for config in args.configs.split(","):
            try:
                result = bench_config(config, threads, args.plan, torch, note)
            except WorkerError as exc:
                print(f"\n{config}, {threads} threads: FAILED: {exc}", flush=True)
                failed = True
                if torch is not None and torch.proc.poll() is not None:
                    torch, note = None, f"the torch worker ended ({exc}): executor-only figures"
                continue
            print_config(result)
            results.append(result)
            failed = failed or bool(result.mismatch)
        if torch is not None:
            torch.close()
    print_summary(results)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
