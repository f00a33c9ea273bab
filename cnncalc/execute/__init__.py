"""The NumPy executor behind ``cnncalc run``: it builds every layer of a Spec with seeded random
arrays, runs a batch through, and measures output volumes, parameter counts and the
multiply-accumulates of the matrix products it performed, to check the analysis against. A
graph network runs in order, each layer on the tensors it reads, each tensor dropped after its
last reader: the peak it holds is checked against the analysis's inference memory.

``geometry`` (window counts, padding, chunking), ``liveness`` (when each tensor is dropped),
``estimate`` (the memory guard) and ``report`` (table, JSON, messages) are plain Python;
``ops``, ``graph_ops`` and ``activations`` (the kernels), ``base``, ``modules`` and
``graph_modules`` (one module per layer kind) and ``network`` (plan, build, run) import numpy,
and only ``cnncalc run`` imports them, lazily: ``cnncalc show`` never loads numpy.
"""
