"""Which files `cnncalc check` with no paths takes for specs (issue 14, part 6): in an ordinary
repository it reports the specs and nothing else; `.cnn` / `.spec.txt` by name, `.txt` by
content, `.py` model code only where the configuration includes it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from cnncalc.check.sniff import candidate, reads_as_spec
from cnncalc.cli import cli
from cnncalc.parse import parse_text

ROOT = Path(__file__).resolve().parent.parent

LENET = "[32x32x1] INPUT\nCONV1: 6 5x5 filters\nPOOL1: 2x2 filters at stride 2\nFC2: 10 neurons\n"
BROKEN = "[224x224x3] INPUT\nCONV1: 96 11x11 filters at stride 4\nFC: 10 neurons\n"  # G101
KERAS_PY = '''"""The model, as the training script builds it."""
from tensorflow import keras
from tensorflow.keras import layers

model = keras.Sequential([
    keras.Input(shape=(28, 28, 1)),
    layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
    layers.MaxPooling2D(pool_size=(2, 2)),
    layers.Flatten(),
    layers.Dense(10, activation="softmax"),
])
'''
TRAIN_PY = "import numpy as np\n\ndef train(model, data):\n    return model.fit(data)\n"
REQUIREMENTS = "click>=8.1\nrich>=13.0\nnumpy>=1.26\ntorch==2.3.0  # for nn.Conv2d(\n"
LICENSE = """MIT License

Copyright (c) 2026 A. Student

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND.
"""
NOTES = """# Notes
CONV1 should have 64 filters, not 96: try a 3x3 conv.
The FC layer holds most of the params (model.add(Dense(4096)) in the Keras version).
Input: 224x224x3, as in the paper.
"""


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """An ordinary repository: requirements, licence, notes, a README, golden outputs (copies
    of cnncalc's own), Python code, a notes file without extension, and two real specs."""
    monkeypatch.chdir(tmp_path)
    files = {
        "requirements.txt": REQUIREMENTS,
        "LICENSE.txt": LICENSE,
        "LICENSE": LICENSE,
        "notes.md": NOTES,
        "docs/notes.txt": NOTES,
        "README.md": "# Project\n\n```\n" + LENET + "```\n",
        "model.py": KERAS_PY,
        "train.py": TRAIN_PY,
        "Makefile": "test:\n\tpytest -q\n",
        "specs/lenet.txt": LENET,
        "specs/alexnet.txt": (ROOT / "specs" / "alexnet.txt").read_text(encoding="utf-8"),
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    shutil.copytree(ROOT / "tests" / "golden", tmp_path / "tests" / "golden")
    (tmp_path / "data.bin").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "weights").write_bytes(b"[32x32x1] INPUT\n\x00\x01" * 100)  # binary
    return tmp_path


def check(*args: str):
    return CliRunner().invoke(cli, ["check", "--output-format", "json", *args])


def checked(result) -> list[str]:
    return [f["path"] for f in json.loads(result.stdout)["files"]]


def test_an_ordinary_repository_reports_exactly_its_specs(repo):
    assert any(p.suffix == ".txt" for p in (repo / "tests" / "golden").rglob("*"))
    result = check()
    assert result.exit_code == 0, result.output
    assert checked(result) == ["specs/alexnet.txt", "specs/lenet.txt"]
    # the files left out are named, the first three of them, so that none goes unseen
    assert result.stderr.endswith(
        "All checks passed! (2 files checked, 14 files left out as not specs: LICENSE, "
        "LICENSE.txt, Makefile and 11 more)\n")


def test_a_spec_with_mistakes_is_still_found_and_reported(repo):
    (repo / "specs" / "broken.txt").write_text(BROKEN, encoding="utf-8")
    (repo / "specs" / "typos.txt").write_text(
        "[32x32x3] INPUT\nCONV1: 8 3x3 filtres\nCONV2: 8 3x3 filters\nFC: 10 neurons\n",
        encoding="utf-8")
    result = check()
    assert result.exit_code == 1
    assert checked(result) == ["specs/alexnet.txt", "specs/broken.txt", "specs/lenet.txt",
                               "specs/typos.txt"]
    found = {(d["path"], d["code"]) for d in json.loads(result.stdout)["diagnostics"]}
    assert ("specs/broken.txt", "G101") in found and ("specs/typos.txt", "P001") in found


def test_a_spec_too_broken_to_read_as_one_is_named_in_the_summary(repo):
    (repo / "specs" / "mangled.txt").write_text(
        "[32x32x3] INPUT\nCNV1: 8 3x3 filtres\nCNV2: 8 3x3\nPOL: 2x2\n", encoding="utf-8")
    result = check()
    assert result.exit_code == 0  # 3 of its 4 lines unread: not taken for a spec ...
    assert "specs/mangled.txt" in json.loads(result.stdout)["summary"]["left_out"]  # ... said
    named = check("specs/mangled.txt")  # named, it is checked
    assert named.exit_code == 1
    assert ("specs/mangled.txt", "P002") in {
        (d["path"], d["code"]) for d in json.loads(named.stdout)["diagnostics"]}


def test_spec_extensions_are_checked_whatever_they_hold(repo):
    (repo / "specs" / "draft.cnn").write_text("to do: the whole network\n", encoding="utf-8")
    (repo / "a.spec.txt").write_text("nothing yet\n", encoding="utf-8")
    result = check()
    assert result.exit_code == 1
    assert checked(result) == ["a.spec.txt", "specs/alexnet.txt", "specs/draft.cnn",
                               "specs/lenet.txt"]


def test_extend_include_brings_in_python_model_code(repo):
    (repo / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.cnncalc]\nextend-include = ["model.py"]\n',
        encoding="utf-8")
    result = check()
    assert result.exit_code == 0, result.output
    assert checked(result) == ["model.py", "specs/alexnet.txt", "specs/lenet.txt"]
    record = json.loads(result.stdout)["files"][0]
    assert record["totals"]["params"] == 32 * 9 + 32 + 13 * 13 * 32 * 10 + 10  # 54,410


def test_include_replaces_the_rule_with_exactly_its_globs(repo):
    """`include` is strict: every file it matches is checked, whatever it holds; nothing else."""
    (repo / "pyproject.toml").write_text(
        '[tool.cnncalc]\ninclude = ["specs/*.txt", "*.py"]\n', encoding="utf-8")
    (repo / "specs" / "todo.txt").write_text("not written yet\n", encoding="utf-8")
    result = check()
    assert checked(result) == ["model.py", "specs/alexnet.txt", "specs/lenet.txt",
                               "specs/todo.txt", "train.py"]
    assert result.exit_code == 1  # todo.txt and train.py are no specs


def test_a_named_file_is_always_checked(repo):
    result = check("requirements.txt", "specs/lenet.txt")
    assert checked(result) == ["requirements.txt", "specs/lenet.txt"]
    assert result.exit_code == 1
    # named after a directory that found it first, too
    assert checked(check(".", "requirements.txt")) == [
        "requirements.txt", "specs/alexnet.txt", "specs/lenet.txt"]


def test_force_exclude_judges_named_files_as_a_walk_does(repo):
    """What the pre-commit hook passes: the changed files, by name."""
    result = check("--force-exclude", "requirements.txt", "LICENSE", "specs/lenet.txt",
                   "model.py")
    assert checked(result) == ["model.py", "specs/lenet.txt"]  # .py: named, not a candidate


def test_cnncalcs_own_repository_reports_no_golden_output(monkeypatch):
    monkeypatch.chdir(ROOT)
    result = check()
    assert result.exit_code in (0, 1), result.output
    paths = checked(result)
    assert not [p for p in paths if p.startswith("tests/golden/") or "egg-info" in p], paths
    assert {"specs/alexnet.txt", "specs/resnet50.txt", "specs/pytorch_alexnet.txt",
            "specs/vgg_cs231n.txt", "specs/keras_mobilenet.txt"} <= set(paths)


@pytest.mark.parametrize(("name", "expected"), [
    ("notes.txt", True), ("LICENSE", True), ("Makefile", True), ("a.spec.txt", True),
    ("model.py", False), ("notes.md", False), ("data.json", False), ("x.cnn", False),
])
def test_candidates_by_name(name, expected):
    """`.cnn` is no candidate: it is checked by name, whatever it holds."""
    assert candidate(name) is expected


@pytest.mark.parametrize(("text", "expected"), [
    (LENET, True),
    (BROKEN, True),  # a geometry error is not a parse error
    ("[32x32x3] INPUT\n", True),  # a spec begun
    ("[32x32x3] INPUT\nCONV1: 8 3x3 filtres\n", True),  # half its lines: still a spec
    ("[32x32x3] INPUT\nCONV1: 8 3x3 filtres\nCONV2: 8 3x3 filtres\n", False),
    (REQUIREMENTS, False), (LICENSE, False), (NOTES, False), ("", False),
    ("# only a comment\n", False),
    ("AlexNet(\n  (fc): Linear(in_features=9216, out_features=4096, bias=True)\n)\n", True),
    ("I tried nn.Conv2d(3, 64, 3) and then nn.ReLU().\nIt did not help.\n", False),
    ("conv3-64\nconv3-64\nmaxpool\nfc-10\n", True),
    (KERAS_PY, True), (TRAIN_PY, False),
])
def test_reads_as_spec(text, expected):
    assert reads_as_spec(parse_text(text, "x.txt")) is expected


def test_golden_outputs_do_not_read_as_specs():
    golden = sorted(p for p in (ROOT / "tests" / "golden").rglob("*") if p.is_file())
    assert len(golden) >= 10
    for path in golden:
        text = path.read_text(encoding="utf-8")
        assert not reads_as_spec(parse_text(text, str(path))), path
