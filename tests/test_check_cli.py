"""`cnncalc check` through click's CliRunner: every output format against a golden file, exit
codes (0 clean, 1 findings at or above --fail-on, 2 usage/config/unreadable/internal), where
the summary goes, the shipped specs, and `cnncalc rules`.

Golden files live in tests/golden/check/; regenerate them after an intended change with
``CNNCALC_REGEN_GOLDEN=1 python -m pytest tests/test_check_cli.py`` and review the diff."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import GOLDEN, ROOT

from cnncalc.cli import cli
from cnncalc.diagnostics import RULES

CHECK_GOLDEN = GOLDEN / "check"

# A small project whose files give one finding of most kinds, in every notation. The odd file
# name and the `%` exercise the github format's escaping.
PROJECT = {
    "specs/lenet.txt": "[32x32x1] INPUT\nCONV1: 6 5x5 filters, pad 2\nAVG POOL1: 2x2 filters"
                       " at stride 2\nFC2: 10 neurons\n",
    "specs/shrink.txt": "# too fast\n[32x32x3] INPUT\nCONV1: 16 5x5 filters\nRELU1\n"
                        "CONV2: 16 5x5 filters\nMAX POOL1: 4x4 filters at stride 4\n"
                        "CONV3: 8 3x3 filters, pad 3\n",
    "specs/odd,name:1.txt": "[32x32x3] INPUT\nCONV1: 16 3x3 filters at stride 1, pad 50%\n",
    "specs/keras.txt": "model = Sequential()\n"
                       "model.add(Conv2D(32, (3, 3), input_shape=(28, 28, 1)))  "
                       "# cnncalc: ignore[W501]\n"
                       "model.add(Conv2D(64, (3, 3)))  # cnncalc: ignore[W503]\n"
                       "model.add(Flatten())  # cnncalc: ignore\n"
                       "model.add(Dense(10))\n",
    "specs/sub/big.txt": "[56x56x3] INPUT\nCONV1: 64 3x3 filters, pad 1\nFC2: 1000 neurons\n",
    "specs/graph.txt": "[8x8x16] INPUT\nCONV1: 16 3x3 filters at stride 1, pad 1\n"
                       "CONV \"proj\" from INPUT: 16 1x1 filters\nADD from CONV1, INPUT\n",
    "specs/notes.md": "not a spec\n",
}
SHIPPED = ("alexnet224.txt", "pytorch_alexnet.txt")
ARGS = ["--max-params", "100M", "--max-activations", "500KB", "specs"]


@pytest.fixture
def project(tmp_path, monkeypatch):
    for name, text in PROJECT.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for name in SHIPPED:
        (tmp_path / "specs" / name).write_bytes((ROOT / "specs" / name).read_bytes())
    (tmp_path / "pyproject.toml").write_text("[tool.cnncalc]\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def invoke(*args: str, input: str | None = None):
    return CliRunner().invoke(cli, ["check", *args], input=input)


def compare(name: str, actual: str, regen: bool) -> None:
    path = CHECK_GOLDEN / name
    if regen:
        CHECK_GOLDEN.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8", newline="")
    assert path.exists(), f"{path} is missing: run with CNNCALC_REGEN_GOLDEN=1 to create it"
    assert actual == path.read_text(encoding="utf-8"), (
        f"{name} differs from the golden file; if the change is intended, rerun with "
        "CNNCALC_REGEN_GOLDEN=1 and review the diff")


FORMATS = {"concise": "txt", "full": "txt", "json": "json", "github": "txt", "junit": "xml"}
SUMMARY = "14 findings in 7 files (5 errors, 6 warnings, 3 info); 8 files checked, 1 suppressed\n"


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_golden_output(project, regen_golden, fmt):
    result = invoke("--output-format", fmt, *ARGS)
    assert result.exit_code == 1, result.output
    assert "\x1b[" not in result.output
    compare(f"project.{fmt}.{FORMATS[fmt]}", result.stdout, regen_golden)
    if fmt in ("concise", "full"):  # the summary ends human output, as ruff's does
        assert result.stdout.endswith(SUMMARY) and result.stderr == ""
    else:  # machine output stays clean; the summary goes to stderr
        assert result.stderr == SUMMARY and "findings in" not in result.stdout


def test_golden_files_say_what_they_should():
    concise = (CHECK_GOLDEN / "project.concise.txt").read_text(encoding="utf-8")
    for text in ("specs/alexnet224.txt:6:22: G101 (224 - 11 + 2*0)/4 + 1 = 54.25",
                 "specs/shrink.txt:3:11: W501 2 unpadded convolutions in a row shrink the "
                 "volume 32 -> 28 -> 24: CONV1, CONV2", "specs/shrink.txt:6:12: W502",
                 "specs/shrink.txt:7:27: W503", "specs/keras.txt:4:23: S602",
                 "specs/keras.txt:3:50: S601", "specs/sub/big.txt:1:1: B401",
                 "specs/sub/big.txt:1:1: B403", "specs/odd,name:1.txt:2:42: P001",
                 "specs/pytorch_alexnet.txt:4:24: I302", "specs/graph.txt:3:1: W504 proj is "
                 "computed for nothing: no later layer reads it, and the network's output is "
                 "ADD"):
        assert text in concise, text
    lines = [ln for ln in concise.splitlines() if ln.startswith("specs/")]
    keys = [(ln.split(":")[0], int(ln.split(":")[1]), int(ln.split(":")[2])) for ln in lines
            if "odd," not in ln]
    assert keys == sorted(keys)  # sorted by path, line, column
    full = (CHECK_GOLDEN / "project.full.txt").read_text(encoding="utf-8")
    assert "    3 | CONV1: 16 5x5 filters\n      |           ^^^" in full
    github = (CHECK_GOLDEN / "project.github.txt").read_text(encoding="utf-8")
    assert ("::error file=specs/odd%2Cname%3A1.txt,line=2,col=42,endColumn=43,"
            "title=cnncalc P001::unexpected character `%25`") in github
    assert "::group::specs/odd,name:1.txt\n" in github


# --- exit codes ----------------------------------------------------------------------------

CLEAN = "[32x32x3] INPUT\nCONV1: 8 3x3 filters, pad 1\n"
WARN = "[32x32x3] INPUT\nCONV1: 8 3x3 filters\nCONV2: 8 3x3 filters\n"
INFO = "[32x32x3] INPUT\nCONV1: 8 3x3 filters, pad ?\n"
ERROR = "[32x32x3] INPUT\nCONV1: 8 3x3 filters at stride 2\n"
PARSE = "[32x32x3] INPUT\nCONV1: 8 3x3 filtres\n"


@pytest.mark.parametrize(("text", "args", "code"), [
    (CLEAN, [], 0), (WARN, [], 0), (INFO, [], 0), (ERROR, [], 1), (PARSE, [], 1),
    (WARN, ["--fail-on", "warning"], 1), (INFO, ["--fail-on", "warning"], 0),
    (INFO, ["--fail-on", "info"], 1), (ERROR, ["--exit-zero"], 0),
    (WARN, ["--fail-on", "warning", "--exit-zero"], 0), (ERROR, ["--ignore", "G101"], 0),
    (CLEAN, ["--max-macs", "1K"], 1), (CLEAN, ["--max-macs", "1K", "--select", "W"], 0),
])
@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_exit_codes(tmp_path, monkeypatch, text, args, code, fmt):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text("[tool.cnncalc]\n", encoding="utf-8")
    (tmp_path / "a.txt").write_text(text, encoding="utf-8")
    result = invoke("--output-format", fmt, *args, "a.txt")
    assert result.exit_code == code, result.output


def test_clean_run_says_all_checks_passed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.txt").write_text(CLEAN, encoding="utf-8")
    result = invoke("--isolated", "--output-format", "concise")
    assert (result.exit_code, result.stdout) == (0, "All checks passed! (1 file checked)\n")
    result = invoke("--isolated", "--output-format", "json")
    assert result.stderr == "All checks passed! (1 file checked)\n"


def test_exit_2_beats_findings_and_exit_zero(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.txt").write_text(ERROR, encoding="utf-8")
    result = invoke("--isolated", "--exit-zero", "a.txt", "missing/")
    assert result.exit_code == 2
    assert "cnncalc: error: missing/: No such file or directory" in result.stderr
    assert "a.txt:2:10: error:" in result.stdout  # the other files are still checked


def test_unreadable_file_exits_2(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.txt").write_text(CLEAN, encoding="utf-8")
    (tmp_path / "b.txt").write_text(CLEAN, encoding="utf-8")
    import cnncalc.check.runner as runner

    real = runner.read_limited

    def deny(path, limit):
        if os.path.basename(path) == "b.txt":
            raise PermissionError(13, "Permission denied")
        return real(path, limit)

    monkeypatch.setattr(runner, "read_limited", deny)
    for fmt in FORMATS:
        result = invoke("--isolated", "--output-format", fmt)
        assert result.exit_code == 2
        assert "cnncalc: error: b.txt: Permission denied" in result.stderr
    junit = ET.fromstring(invoke("--isolated", "--output-format", "junit").stdout)
    assert junit.find(".//testcase[@name='b.txt']/error").get("message") == "Permission denied"


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root reads files whatever their mode")
def test_permission_denied_for_real(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.txt").write_text(CLEAN, encoding="utf-8")
    (tmp_path / "a.txt").chmod(0)
    result = invoke("--isolated", "a.txt")
    assert result.exit_code == 2 and "Permission denied" in result.stderr


def test_internal_error_exits_2_and_the_rest_is_checked(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.txt").write_text(ERROR, encoding="utf-8")
    (tmp_path / "b.txt").write_text(CLEAN, encoding="utf-8")
    import cnncalc.check.runner as runner

    real = runner.analyse

    def boom(text, shown, fs, bad=None, *args):
        if shown == "b.txt":
            raise ZeroDivisionError("boom")
        return real(text, shown, fs, bad, *args)

    monkeypatch.setattr(runner, "analyse", boom)
    result = invoke("--isolated", "--output-format", "concise")
    assert result.exit_code == 2
    assert "cnncalc: error: b.txt: internal error: ZeroDivisionError: boom" in result.stderr
    assert "--debug" in result.stderr and "Traceback" not in result.stderr
    assert "a.txt:2:10: G101" in result.stdout
    result = CliRunner().invoke(cli, ["--debug", "check", "--isolated"])
    assert "Traceback" in result.stderr


def test_no_files_found_warns(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.md").write_text(CLEAN, encoding="utf-8")
    (tmp_path / "notes.txt").write_text("Try a 3x3 conv here.\nAsk about the FC.\n",
                                        encoding="utf-8")
    result = invoke("--isolated")
    assert result.exit_code == 0
    assert result.stderr == (
        "cnncalc: warning: no spec files found (include: *.cnn, *.spec.txt; .txt and "
        "extension-less files that read as specs, and 1 file that did not read as specs)\n")


def test_not_utf8_is_a_finding(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.txt").write_bytes(b"[32x32x3] INPUT  # caf\xe9\n")
    (tmp_path / "b.txt").write_bytes(b"[32x32x3] INPUT\x00\n")
    result = invoke("--isolated", "--output-format", "concise", ".", "b.txt")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[:2] == [
        "a.txt:1:23: P006 byte 0xe9 is not UTF-8 text: is this a spec file?",
        "b.txt:1:16: P006 a NUL byte is not UTF-8 text: is this a spec file?"]
    assert ET.fromstring(invoke("--isolated", "--output-format", "junit").stdout) is not None
    # found in a walk, a file with a NUL byte is binary: not a spec (a.txt reads as one)
    result = invoke("--isolated", "--output-format", "concise")
    assert result.stdout.splitlines()[1:] == [
        "1 finding in 1 file (1 error); 1 file checked, 1 file left out as not specs: b.txt"]


def test_standard_input(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("--isolated", "--output-format", "concise", "-", input=WARN)
    assert result.stdout.startswith("<stdin>:2:10: W501 ")


def test_spec_options_apply_to_every_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.txt").write_text("CONV1: 8 3x3 filters, pad 1\n", encoding="utf-8")
    (tmp_path / "b.txt").write_text(ERROR, encoding="utf-8")
    assert invoke("--isolated", "a.txt").exit_code == 1  # no input
    assert invoke("--isolated", "--input", "32x32x3", "--rounding", "floor").exit_code == 0


def test_summary_counts_only_selected_findings(project):
    result = invoke("--output-format", "concise", "--select", "W5", *ARGS)
    assert result.stdout.endswith("4 findings in 2 files (4 warnings); 8 files checked, "
                                  "1 suppressed\n")
    assert result.exit_code == 0


# --- the shipped specs ---------------------------------------------------------------------

PROPOSED_CONFIG = """\
[tool.cnncalc]
# specs/alexnet224.txt is broken on purpose: it shows `cnncalc show`'s 54.25 error.
exclude = ["specs/alexnet224.txt"]

# The lecture's Keras MNIST example leaves these names to the surrounding script.
[[tool.cnncalc.per-path]]
path = "specs/keras_mnist.txt"
define = { num_classes = 10, input_shape = "28x28x1" }
"""


def test_shipped_specs(runner):
    result = runner.invoke(cli, ["check", "--isolated", "--output-format", "json", "specs"])
    assert result.exit_code == 1
    record = json.loads(result.stdout)
    errors = sorted((d["path"], d["code"]) for d in record["diagnostics"]
                    if d["severity"] == "error")
    assert errors == [("specs/alexnet224.txt", "G101"), ("specs/keras_mnist.txt", "P008"),
                      ("specs/keras_mnist.txt", "P008")]
    totals = {f["path"]: f["totals"] for f in record["files"]}
    assert totals["specs/alexnet.txt"]["params"] == 62_378_344
    assert totals["specs/alexnet.txt"]["macs"] == 1_135_256_096
    assert totals["specs/vgg16.txt"]["params"] == 138_357_544
    assert totals["specs/alexnet224.txt"] is None


def test_proposed_repository_config_passes(runner, tmp_path):
    """The [tool.cnncalc] proposed for the repository's pyproject.toml: `cnncalc check specs/`
    passes (exit 0), with the Keras MNIST example's W501 warning left visible."""
    config = tmp_path / "pyproject.toml"
    config.write_text(PROPOSED_CONFIG, encoding="utf-8")
    # the globs match the paths as walked from the repository root (the current directory)
    result = runner.invoke(cli, ["check", "--config", str(config), "--output-format",
                                 "concise", "specs"])
    assert result.exit_code == 0, result.output
    assert "alexnet224" not in result.stdout and "P008" not in result.stdout
    assert "specs/keras_mnist.txt:2:22: W501" in result.stdout


# --- cnncalc rules -------------------------------------------------------------------------

def test_rules_lists_every_code(runner):
    result = runner.invoke(cli, ["rules"])
    assert result.exit_code == 0
    listed = [line.split()[0] for line in result.stdout.splitlines()]
    assert sorted(listed) == sorted(RULES)
    assert "W501  fast-shrinking" in result.stdout
    record = json.loads(runner.invoke(cli, ["rules", "--output-format", "json"]).stdout)
    assert {r["code"] for r in record} == set(RULES)
    assert {"code", "name", "severity", "summary"} == set(record[0])


@pytest.mark.parametrize("code", sorted(RULES))
def test_rules_explains_every_code(runner, code):
    result = runner.invoke(cli, ["rules", code.lower()])
    assert result.exit_code == 0, result.output
    rule = RULES[code]
    assert result.stdout.startswith(f"{code} {rule.name} ({rule.severity.value})\n")
    assert "Passing" in result.stdout and "Failing" in result.stdout


def test_rules_unknown_code_exits_2(runner):
    result = runner.invoke(cli, ["rules", "Z999"])
    assert result.exit_code == 2 and "'Z999' is not a rule code" in result.stderr


# --- imports -------------------------------------------------------------------------------

PROBE = """
import contextlib, io, sys
from cnncalc.commands.check import check
with contextlib.redirect_stdout(io.StringIO()):
    try:
        check.main(["--isolated", "--output-format", "{fmt}", "specs"], standalone_mode=True)
    except SystemExit:
        pass
print("numpy" in sys.modules, "rich" in sys.modules)
"""


@pytest.mark.parametrize("fmt", ["json", "github", "junit", "concise", "full"])
def test_check_imports_neither_numpy_nor_rich(fmt):
    proc = subprocess.run([sys.executable, "-c", PROBE.replace("{fmt}", fmt)], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    assert proc.stdout.split() == ["False", "False"], proc.stderr


def test_cli_check_imports_neither_numpy_nor_rich():
    probe = PROBE.replace("from cnncalc.commands.check import check",
                          "from cnncalc.cli import cli as check").replace(
        '["--isolated"', '["check", "--isolated"').replace("{fmt}", "json")
    proc = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                          text=True, check=False)
    assert proc.stdout.split() == ["False", "False"], proc.stderr


def test_pre_commit_hook_definition():
    text = (ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    assert "id: cnncalc-check" in text and "entry: cnncalc check" in text
    assert "language: python" in text and "files:" in text
    assert Path(ROOT / "docs" / "ci.md").exists()
