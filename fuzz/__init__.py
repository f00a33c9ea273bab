"""The fuzzer of cnncalc (fuzz_parsers.py), its input generators and its target."""
