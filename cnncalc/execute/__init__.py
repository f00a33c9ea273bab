"""The NumPy executor behind ``cnncalc run``: it builds every layer of a Spec with seeded random
arrays, runs a batch through, and measures output volumes, parameter counts and the
multiply-accumulates of the matrix products it performed, to check the analysis against.

``geometry`` (window counts, padding, chunking), ``estimate`` (the memory guard) and ``report``
(table, JSON, messages) are plain Python; ``ops`` and ``activations`` (the kernels),
``modules`` (one per layer kind) and ``network`` (plan, build, run) import numpy, and only
``cnncalc run`` imports them, lazily: ``cnncalc show`` never loads numpy.
"""
