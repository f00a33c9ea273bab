"""cnncalc: a calculator and checker for convolutional network architectures."""

__version__ = "0.1.0"
