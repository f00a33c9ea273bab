"""Adversarial tests: a catalogue of bad inputs with the exact diagnostics they must produce,
property-based tests over mutated specs, safety (no code run, no huge allocation, no hang),
and the CLI's last line of defence against internal errors."""
