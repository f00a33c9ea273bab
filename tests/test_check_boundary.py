"""`cnncalc check` and the tree's boundary (issue 11, item 7): symbolic links out of the checked
tree are not followed and are reported (P020) without a byte of their target in any output;
the baseline is written atomically and never through a link; configuration and baseline files
must be regular files of bounded size, and nesting too deep to read is a configuration error.
Every symbolic link, FIFO and deep file here is real, made in tmp_path."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import cnncalc.check.baseline as baseline_module
from cnncalc.cli import cli

SECRET = "SECRET_TOKEN=hunter2"
CLEAN = "[32x32x3] INPUT\nCONV1: 8 3x3 filters, pad 1\n"
FORMATS = ("full", "concise", "json", "github", "junit")

pytestmark = pytest.mark.skipif(not hasattr(os, "symlink") or sys.platform == "win32",
                                reason="POSIX symbolic links and FIFOs")


def invoke(*args: str):
    return CliRunner().invoke(cli, ["check", "--isolated", *args])


def concise(*args: str):
    return invoke("--output-format", "concise", *args)


@pytest.fixture
def tree(tmp_path, monkeypatch):
    """``project/specs`` holding a spec, with secrets around it: a file outside the project,
    a .git/config, a .env and a key file inside it. The project is the current directory."""
    project = tmp_path / "project"
    specs = project / "specs"
    specs.mkdir(parents=True)
    (specs / "real.txt").write_text(CLEAN, encoding="utf-8")
    (tmp_path / "secret.txt").write_text(SECRET + "\n", encoding="utf-8")
    (project / ".git").mkdir()
    (project / ".git" / "config").write_text(f"[http]\n{SECRET}\n", encoding="utf-8")
    (project / ".env").write_text(SECRET + "\n", encoding="utf-8")
    (project / "key.json").write_text(SECRET + "\n", encoding="utf-8")
    monkeypatch.chdir(project)
    return project


def link(path: Path, target: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(target, path)
    return path


def assert_never_printed(result) -> None:
    assert "SECRET" not in result.stdout and "hunter2" not in result.stdout
    assert "SECRET" not in result.stderr and "hunter2" not in result.stderr


# --- file links in a walked tree -------------------------------------------------------------

@pytest.mark.parametrize(("name", "target", "why"), [
    ("specs/out.txt", "../../secret.txt", "it leads out of the checked tree specs"),
    ("specs/abs.txt", "{tmp}/secret.txt", "it leads out of the checked tree specs"),
    ("specs/up.txt", "../key.json", "it leads out of the checked tree specs"),
    ("specs/zero.txt", "/dev/zero", "it leads out of the checked tree specs"),
    ("specs/chain.txt", "hop.bin", "it leads out of the checked tree specs"),  # hop.bin -> out
])
@pytest.mark.parametrize("fmt", FORMATS)
def test_a_link_out_of_the_tree_is_reported_not_read(tree, name, target, why, fmt):
    link(tree / "specs" / "hop.bin", "../../secret.txt")
    link(tree / name, target.replace("{tmp}", str(tree.parent)))
    result = invoke("--output-format", fmt, "specs")
    assert result.exit_code == 1, result.output
    assert_never_printed(result)
    assert name in result.stdout and "P020" in result.stdout
    if fmt == "concise":
        assert result.stdout.splitlines()[0] == (
            f"{name}:1:1: P020 symbolic link not followed: {why}; the file it leads to was "
            "not read")


@pytest.mark.parametrize(("name", "target", "why"), [
    ("git.txt", ".git/config", "a hidden file or into a directory check never searches"),
    ("env.txt", ".env", "a hidden file or into a directory check never searches"),
    ("venv.txt", "venv/x.txt", "a hidden file or into a directory check never searches"),
    ("key.txt", "key.json", "a file the include and exclude globs leave out"),
    ("old.txt", "specs/old/x.txt", "a file the include and exclude globs leave out"),
    ("bak.txt", "specs/x.bak", "a file the include and exclude globs leave out"),
])
def test_a_link_inside_the_tree_to_a_file_the_walk_would_not_read_is_reported(
        tree, name, target, why):
    (tree / "venv").mkdir()
    (tree / "venv" / "x.txt").write_text(SECRET, encoding="utf-8")
    (tree / "specs" / "old").mkdir()
    (tree / "specs" / "old" / "x.txt").write_text(SECRET, encoding="utf-8")
    (tree / "specs" / "x.bak").write_text(SECRET, encoding="utf-8")
    (tree / "pyproject.toml").write_text('[tool.cnncalc]\nexclude = ["specs/old"]\n',
                                         encoding="utf-8")
    link(tree / name, target)
    result = CliRunner().invoke(cli, ["check", "--output-format", "concise", "."])
    assert result.exit_code == 1
    assert_never_printed(result)
    assert f"{name}:1:1: P020 symbolic link not followed: it leads to {why}" in result.stdout


def test_a_link_to_a_spec_inside_the_tree_is_followed(tree):
    link(tree / "specs" / "alias.txt", "real.txt")
    link(tree / "specs" / "sub" / "deep.txt", "../real.txt")
    result = concise("specs")
    assert (result.exit_code, result.stdout) == (0, "All checks passed! (3 files checked)\n")
    result = invoke("--output-format", "json", "specs")
    assert [f["path"] for f in json.loads(result.stdout)["files"]] == [
        "specs/alias.txt", "specs/real.txt", "specs/sub/deep.txt"]


def test_the_tree_is_the_directory_named(tree):
    """A link from specs/ to the project root is out of `specs` but inside `.`."""
    (tree / "top.txt").write_text(CLEAN, encoding="utf-8")
    link(tree / "specs" / "top.txt", "../top.txt")
    assert "P020" in concise("specs").stdout
    result = concise(".")
    # the tree's .env is an extension-less file that is no spec: named, not checked
    assert (result.exit_code, result.stdout) == (
        0, "All checks passed! (3 files checked, 1 file left out as not specs: .env)\n")


def test_p020_can_be_ignored_or_the_link_excluded(tree):
    link(tree / "specs" / "out.txt", "../../secret.txt")
    result = concise("--ignore", "P020", "specs")
    assert result.exit_code == 0 and "P020" not in result.stdout
    assert_never_printed(result)
    (tree / "pyproject.toml").write_text('[tool.cnncalc]\nexclude = ["specs/out.txt"]\n',
                                         encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", "--output-format", "concise", "specs"])
    assert (result.exit_code, result.stdout) == (0, "All checks passed! (1 file checked)\n")


def test_a_refused_link_in_json_and_junit(tree):
    link(tree / "specs" / "out.txt", "../../secret.txt")
    record = json.loads(invoke("--output-format", "json", "specs").stdout)
    assert record["files"][0] == {"path": "specs/out.txt", "notation": None, "findings": 1,
                                  "totals": None}
    assert record["diagnostics"][0]["code"] == "P020"
    junit = invoke("--output-format", "junit", "specs").stdout
    assert '<failure type="P020"' in junit


@pytest.mark.parametrize(("name", "target", "reason"), [
    ("specs/loop.txt", "loop.txt", "Too many levels of symbolic links"),
    ("specs/dangling.txt", "nowhere.txt", "No such file or directory"),
])
def test_a_link_that_cannot_be_followed_exits_2(tree, name, target, reason):
    link(tree / name, target)
    result = concise("specs")
    assert result.exit_code == 2
    assert f"cnncalc: error: {name}: a symbolic link that cannot be followed: {reason}" \
        in result.stderr
    assert "specs/real.txt" not in result.stderr  # the rest is still checked


def test_links_to_directories_are_never_followed_so_loops_cannot_hang(tree):
    link(tree / "specs" / "self", ".")
    link(tree / "specs" / "parent", "..")
    link(tree / "specs" / "outside", str(tree.parent))
    link(tree / "specs" / "a" / "b", "../../specs")
    result = concise("specs")
    assert (result.exit_code, result.stdout) == (0, "All checks passed! (1 file checked)\n")


# --- files named on the command line ---------------------------------------------------------

def test_a_named_link_belongs_to_the_directory_it_is_named_in(tree):
    link(tree / "specs" / "beside.txt", "real.txt")
    link(tree / "specs" / "out.txt", "../../secret.txt")
    link(tree / "specs" / "up.txt", "../top.txt")
    (tree / "top.txt").write_text(CLEAN, encoding="utf-8")
    assert concise("specs/beside.txt").exit_code == 0
    for name in ("specs/out.txt", "specs/up.txt"):
        result = concise(name)
        assert result.exit_code == 1
        assert_never_printed(result)
        assert result.stdout.startswith(f"{name}:1:1: P020 symbolic link not followed: it "
                                        "leads out of the checked tree specs;")


def test_a_named_path_through_a_linked_directory_is_the_users_choice(tree):
    """Links the user names are followed: the tree is the directory the file is named in."""
    elsewhere = tree.parent / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "x.txt").write_text(CLEAN, encoding="utf-8")
    link(tree / "linked", str(elsewhere))
    assert concise("linked/x.txt").exit_code == 0
    assert concise("linked").stdout == "All checks passed! (1 file checked)\n"


def test_globs_judge_a_link_target_by_its_path_as_walked(tree):
    """Named through a linked directory, the tree's files keep the paths the walk gives them,
    so an anchored include glob matches the target of a link as it matches the file."""
    elsewhere = tree.parent / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "real.txt").write_text(CLEAN, encoding="utf-8")
    link(elsewhere / "alias.txt", "real.txt")
    link(tree / "linked", str(elsewhere))
    (tree / "pyproject.toml").write_text('[tool.cnncalc]\ninclude = ["linked/*.txt"]\n',
                                         encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", "--output-format", "concise", "linked"])
    assert (result.exit_code, result.stdout) == (0, "All checks passed! (2 files checked)\n")


def test_a_named_link_loop_says_so(tree):
    link(tree / "loop.txt", "loop.txt")
    result = concise("loop.txt")
    assert result.exit_code == 2
    assert "cnncalc: error: loop.txt: Too many levels of symbolic links" in result.stderr


# --- writing the baseline --------------------------------------------------------------------

@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.txt").write_text(CLEAN, encoding="utf-8")
    return tmp_path


def test_write_baseline_never_writes_through_a_link(project):
    (project / "victim").write_text("precious\n", encoding="utf-8")
    link(project / "base.json", "victim")
    result = invoke("--write-baseline", "base.json", "a.txt")
    assert result.exit_code == 2
    assert ("cnncalc: error: base.json: cannot write the baseline: is a symbolic link; cnncalc "
            "replaces only a regular file and never writes through a link") in result.stderr
    assert (project / "victim").read_text(encoding="utf-8") == "precious\n"
    assert os.path.islink(project / "base.json")


@pytest.mark.parametrize(("make", "says"), [
    ("directory", "'base.json' is a directory"),  # click refuses it first
    ("fifo", "base.json: cannot write the baseline: is a FIFO (named pipe); cnncalc replaces "
     "only a regular file\n"),
])
def test_write_baseline_replaces_only_a_regular_file(project, make, says):
    if make == "directory":
        (project / "base.json").mkdir()
    else:
        os.mkfifo(project / "base.json")
    result = invoke("--write-baseline", "base.json", "a.txt")
    assert result.exit_code == 2 and says in result.stderr


def test_write_baseline_is_atomic_and_keeps_the_mode(project, monkeypatch):
    (project / "base.json").write_text("old\n", encoding="utf-8")
    (project / "base.json").chmod(0o640)
    assert invoke("--write-baseline", "base.json", "a.txt").exit_code == 0
    written = (project / "base.json").read_text(encoding="utf-8")
    # peak: the 32x32x3 input and CONV1's 32x32x8 output, 3,072 + 8,192 elements
    assert json.loads(written)["specs"] == {"a.txt": {"macs": 221184, "params": 224,
                                                      "peak_activations": 11264}}
    assert stat.S_IMODE(os.stat(project / "base.json").st_mode) == 0o640
    assert sorted(p.name for p in project.iterdir()) == ["a.txt", "base.json"]

    def fail(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    (project / "a.txt").write_text(CLEAN.replace("8 3x3", "9 3x3"), encoding="utf-8")
    result = invoke("--write-baseline", "base.json", "a.txt")
    assert result.exit_code == 2
    assert "base.json: cannot write the baseline: No space left on device" in result.stderr
    assert (project / "base.json").read_text(encoding="utf-8") == written  # the old one
    assert sorted(p.name for p in project.iterdir()) == ["a.txt", "base.json"]  # no temp


def test_a_new_baseline_gets_the_usual_mode(project):
    umask = os.umask(0o022)
    os.umask(umask)
    assert invoke("--write-baseline", "new.json", "a.txt").exit_code == 0
    assert stat.S_IMODE(os.stat(project / "new.json").st_mode) == 0o666 & ~umask


# --- reading the baseline and the configuration ----------------------------------------------

HANG_GUARD = 60  # seconds; a regression would block forever, a pass takes about one


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cnncalc", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=HANG_GUARD, check=False)


def test_a_fifo_baseline_is_refused_not_waited_on(project):
    os.mkfifo(project / "base.json")
    proc = run("check", "--isolated", "--baseline", "base.json", "a.txt", cwd=project)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == ("cnncalc: error: base.json: cannot read the baseline: is a FIFO "
                           "(named pipe), not a regular file\n")


@pytest.mark.parametrize("where", ["found", "--config"])
def test_a_fifo_config_is_refused_not_waited_on(project, where):
    os.mkfifo(project / "pyproject.toml")
    args = ["--config", "pyproject.toml"] if where == "--config" else []
    proc = run("check", *args, "a.txt", cwd=project)
    assert proc.returncode == 2
    assert "pyproject.toml: cannot read: is a FIFO (named pipe), not a regular file" \
        in proc.stderr


@pytest.mark.parametrize("option", ["--baseline", "--config"])
def test_dev_zero_behind_a_link_is_refused(project, option):
    link(project / "zero", "/dev/zero")
    args = ("--isolated",) if option == "--baseline" else ()
    result = invoke(*args, option, "zero", "a.txt") if args else CliRunner().invoke(
        cli, ["check", option, "zero", "a.txt"])
    assert result.exit_code == 2
    assert "zero: cannot read" in result.stderr and "is a character device" in result.stderr


def test_a_pyproject_that_is_dev_zero_is_refused_when_found(project):
    link(project / "pyproject.toml", "/dev/zero")
    result = CliRunner().invoke(cli, ["check", "a.txt"])
    assert result.exit_code == 2
    assert "pyproject.toml: cannot read: is a character device, not a regular file" \
        in result.stderr


def test_oversized_files_are_refused(project, monkeypatch):
    (project / "pyproject.toml").write_text("[tool.cnncalc]\n#" + "x" * 2**20 + "\n",
                                            encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", "a.txt"])
    assert result.exit_code == 2
    assert "pyproject.toml: cannot read: is larger than 1 MiB" in result.stderr
    monkeypatch.setattr(baseline_module, "BASELINE_LIMIT", 100)
    (project / "base.json").write_text(json.dumps({"version": 1, "specs": {
        f"s{i}.txt": {"params": i, "macs": i} for i in range(10)}}), encoding="utf-8")
    result = invoke("--baseline", "base.json", "a.txt")
    assert result.exit_code == 2
    assert "base.json: cannot read the baseline: is larger than 100 bytes" in result.stderr
    result = invoke("--write-baseline", "new.json", "a.txt")
    assert result.exit_code == 2 and "would be larger than 100 bytes" in result.stderr
    assert not (project / "new.json").exists()


def test_the_baseline_bound_is_16_mib():
    assert baseline_module.BASELINE_LIMIT == 16 * 2**20


@pytest.mark.parametrize(("content", "says"), [
    ("[" * 100_000 + "]" * 100_000, "not a JSON baseline: arrays or objects nested too deeply"),
    ('{"version": 1, "specs": ' + '{"a": ' * 100_000 + "1" + "}" * 100_001,
     "not a JSON baseline: arrays or objects nested too deeply"),
    ('{"version": 1, "specs": {"a.txt": {"params": ' + "9" * 5000 + ', "macs": 1}}}',
     "not a JSON baseline: a number of 5,000 digits (at most 4,300)"),
    ('{"version": 1, "specs": {"a.txt": {"params": -1, "macs": 1}}}',
     "specs.a.txt: params must be a whole number, 0 or more"),
    ('{"version": 1, "specs": {"a.txt": {"params": 1e3, "macs": 1}}}',
     "specs.a.txt: params must be a whole number, 0 or more"),
    ('{"version": 1, "specs": {"a.txt": {"params": 1, "macs": "2"}}}',
     "specs.a.txt: macs must be a whole number, 0 or more"),
    ('{"version": 1, "specs": {"a.txt": {"params": 1, "macs": 1, "peak_activations": -5}}}',
     "specs.a.txt: peak_activations must be a whole number, 0 or more"),
    ('{"version": 1, "specs": {"a.txt": {"params": 1, "macs": 1, "peak_activations": true}}}',
     "specs.a.txt: peak_activations must be a whole number, 0 or more"),
    (b"\xff\xfe", "not a JSON baseline:"),
])
def test_malformed_baselines_exit_2_naming_the_file(project, content, says):
    data = content if isinstance(content, bytes) else content.encode("utf-8")
    (project / "base.json").write_bytes(data)
    result = invoke("--baseline", "base.json", "a.txt")
    assert result.exit_code == 2
    assert result.stderr.startswith("cnncalc: error: base.json: ") and says in result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr


@pytest.mark.parametrize(("body", "says"), [
    ("x = " + "[" * 100_000 + "]" * 100_000, "not valid TOML: arrays or tables nested too "
     "deeply"),
    ("x = " + "{ a = " * 50_000 + "1" + " }" * 50_000, "not valid TOML: arrays or tables "
     "nested too deeply"),
    ("max-params = " + "9" * 5000, "not valid TOML: an integer of more than 4,300 digits"),
])
def test_malformed_toml_exits_2_naming_the_file(project, body, says):
    (project / "pyproject.toml").write_text(f"[tool.cnncalc]\n{body}\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", "a.txt"])
    assert result.exit_code == 2
    assert f"pyproject.toml: {says}" in result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
