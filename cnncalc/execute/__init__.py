"""The NumPy executor behind ``cnncalc run``: it builds every layer of a Spec with seeded random
arrays, runs a batch through, and measures output volumes, parameter counts and the
multiply-accumulates of the matrix products it performed, to check the analysis against. A
graph network runs in order, each layer on the tensors it reads, each tensor dropped after its
last reader: the peak it holds is checked against the analysis's inference memory.

``geometry`` (window counts, padding, chunking), ``liveness`` (when each tensor is dropped),
``arena`` (where each output lives in one block), ``estimate`` (the memory guard) and
``report`` (table, JSON, messages) are plain Python; ``ops``, ``depthwise``, ``pooling``,
``gather``, ``graph_ops`` and ``activations`` (the kernels), ``fusion`` (layers run inside
the convolution before them), ``bounds`` (what vouches for an output being finite), ``base``,
``modules`` and ``graph_modules`` (one module per layer kind), ``memory`` (the memory plan)
and ``network`` (plan, build, run) import numpy, and only ``cnncalc run`` imports them,
lazily: ``cnncalc show`` never loads numpy.
"""

import os

# OpenBLAS's threads spin for 2**28 cycles (about 0.1 s) after each matrix product before they
# sleep, and cnncalc runs threads of its own between products (the depthwise taps, the im2col
# gather, a chunk's fused layers), which the spinning threads would slow by a third to a half
# on 2 cores (measured with benchmarks/bench_run.py: MobileNetV1 at batch 8, executor / torch
# 1.59 -> 1.07). OpenBLAS reads this when NumPy loads it, and `cnncalc run` imports this
# package first; a value the user set is kept.
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")
