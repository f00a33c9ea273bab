"""`cnncalc check` configuration and discovery: [tool.cnncalc] found upwards, validated (exit 2
naming the key), per-path settings, flags over config, include/exclude globs."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from cnncalc.check.config import find_config
from cnncalc.check.globs import Glob
from cnncalc.cli import cli

LENET = "[32x32x1] INPUT\nCONV1: 6 5x5 filters\nFC2: 10 neurons\n"  # 47,206 params
SHRINK = "[32x32x3] INPUT\nCONV1: 8 3x3 filters\nCONV2: 8 3x3 filters\n"  # W501
BROKEN = "[224x224x3] INPUT\nCONV1: 96 11x11 filters at stride 4\n"  # G101


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A temporary project directory, made current; ``write(name, text)`` adds files."""
    monkeypatch.chdir(tmp_path)

    class Project:
        root = tmp_path

        def write(self, name: str, text: str) -> Path:
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            return path

        def config(self, body: str) -> None:
            self.write("pyproject.toml", f"[project]\nname = 'x'\n\n[tool.cnncalc]\n{body}\n")

        def check(self, *args: str):
            return CliRunner().invoke(cli, ["check", "--output-format", "concise", *args])

    return Project()


def found(result) -> list[str]:
    """``path CODE`` for each finding line of concise output."""
    return [f"{ln.split(':')[0]} {ln.split(': ')[1].split()[0]}"
            for ln in result.stdout.splitlines() if ": " in ln and ln.count(":") >= 3]


# --- discovery -----------------------------------------------------------------------------

def test_directories_are_searched_for_txt(project):
    project.config("")
    project.write("specs/a.txt", SHRINK)
    project.write("specs/deep/er/b.txt", SHRINK)
    project.write("specs/c.md", SHRINK)  # not *.txt
    project.write("build/d.txt", SHRINK)  # build output is never searched
    project.write(".hidden/e.txt", SHRINK)
    project.write("venv/f.txt", SHRINK)
    result = project.check()
    assert result.exit_code == 0, result.output
    assert found(result) == ["specs/a.txt W501", "specs/deep/er/b.txt W501"]
    assert result.stdout.endswith("2 findings in 2 files (2 warnings); 2 files checked\n")


def test_a_file_named_explicitly_is_checked_whatever_its_name(project):
    project.config("")
    project.write("model.spec", SHRINK)
    project.write("build/x.txt", SHRINK)
    result = project.check("model.spec", "build/x.txt")
    assert found(result) == ["build/x.txt W501", "model.spec W501"]


def test_include_and_exclude(project):
    project.config('include = ["*.spec", "specs/**/*.txt"]\n'
                   'exclude = ["specs/old", "broken*.txt"]')
    project.write("a.spec", SHRINK)
    project.write("notes.txt", "not a spec at all\n")  # not included
    project.write("specs/x/b.txt", SHRINK)
    project.write("specs/old/c.txt", BROKEN)  # excluded directory
    project.write("specs/broken1.txt", BROKEN)  # excluded by name
    result = project.check()
    assert result.exit_code == 0, result.output
    assert found(result) == ["a.spec W501", "specs/x/b.txt W501"]


def test_exclude_applies_to_named_files_only_with_force_exclude(project):
    project.config('exclude = ["broken.txt"]')
    project.write("broken.txt", BROKEN)
    assert project.check("broken.txt").exit_code == 1
    result = project.check("--force-exclude", "broken.txt")
    assert result.exit_code == 0 and "no spec files found" in result.stderr
    project.config('exclude = ["broken.txt"]\nforce-exclude = true')
    assert project.check("broken.txt").exit_code == 0


def test_paths_in_a_subdirectory_match_globs_from_the_config_root(project, monkeypatch):
    project.config('exclude = ["specs/broken.txt"]\n'
                   '[[tool.cnncalc.per-path]]\npath = "specs/big*.txt"\nmax-params = "1K"')
    project.write("specs/broken.txt", BROKEN)
    project.write("specs/big1.txt", LENET)
    project.write("specs/small.txt", LENET)
    monkeypatch.chdir(project.root / "specs")
    result = CliRunner().invoke(cli, ["check", "--output-format", "concise"])
    assert found(result) == ["big1.txt B401"]
    assert result.exit_code == 1


def test_missing_path_exits_2_after_checking_the_rest(project):
    project.config("")
    project.write("a.txt", SHRINK)
    result = project.check("a.txt", "nope.txt")
    assert result.exit_code == 2
    assert "cnncalc: error: nope.txt: No such file or directory" in result.stderr
    assert found(result) == ["a.txt W501"]


@pytest.mark.parametrize(("pattern", "path", "matches"), [
    ("*.txt", "a.txt", True), ("*.txt", "specs/a.txt", True), ("*.txt", "a.txt.bak", False),
    ("specs/*.txt", "specs/a.txt", True), ("specs/*.txt", "specs/x/a.txt", False),
    ("specs/**/*.txt", "specs/a.txt", True), ("specs/**/*.txt", "specs/x/y/a.txt", True),
    ("./specs/mobile*.txt", "specs/mobile_v1.txt", True), ("build", "build/x.txt", True),
    ("a?.txt", "ab.txt", True), ("[!a]*.txt", "a.txt", False), ("[!a]*.txt", "b.txt", True),
    ("specs/", "specs/a.txt", True), ("specs/", "specs", True), ("specs/", "a/specs.txt", False),
])
def test_globs(pattern, path, matches):
    assert Glob(pattern).match(path) is matches


# --- configuration -------------------------------------------------------------------------

def test_nearest_pyproject_with_the_table_wins(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.cnncalc]\n", encoding="utf-8")
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "pyproject.toml").write_text("[project]\nname = 'a'\n", encoding="utf-8")
    assert find_config(tmp_path / "a" / "b") == tmp_path / "pyproject.toml"
    (tmp_path / "a" / "b" / "pyproject.toml").write_text("[tool.cnncalc]\nignore = ['W']\n",
                                                         encoding="utf-8")
    assert find_config(tmp_path / "a" / "b") == tmp_path / "a" / "b" / "pyproject.toml"


def test_config_applies(project):
    project.config('max-params = "40K"\nignore = ["W5"]')
    project.write("a.txt", LENET)
    project.write("b.txt", SHRINK)
    result = project.check()
    assert found(result) == ["a.txt B401"]
    assert "(set in pyproject.toml [tool.cnncalc])" in project.check("--output-format", "full"
                                                                     ).stdout


def test_flags_override_config(project):
    project.config('max-params = "40K"\nignore = ["W5"]\nfail-on = "warning"')
    project.write("a.txt", LENET)
    project.write("b.txt", SHRINK)
    result = project.check("--max-params", "50K", "--ignore", "B")
    assert found(result) == ["b.txt W501"]
    assert result.exit_code == 1  # fail-on warning from the config
    assert project.check("--max-params", "50K", "--ignore", "B", "--fail-on", "error"
                         ).exit_code == 0
    assert project.check("--isolated").exit_code == 0
    assert found(project.check("--isolated")) == ["b.txt W501"]


def test_per_path_settings(project):
    project.config(
        'max-params = "100K"\n'
        '[[tool.cnncalc.per-path]]\npath = "mobile*.txt"\nmax-params = "40K"\n'
        '[[tool.cnncalc.per-path]]\npath = ["mobile_b.txt", "keras*.txt"]\nmax-params = "1M"\n'
        'ignore = ["W501"]\ndefine = { num_classes = 10, input_shape = "28x28x1" }\n')
    project.write("mobile_a.txt", LENET)
    project.write("mobile_b.txt", LENET)  # the later entry wins
    project.write("big.txt", LENET)
    project.write("keras_mnist.txt", "model = Sequential()\nmodel.add(Conv2D(32, (3, 3), "
                  "input_shape=input_shape))\nmodel.add(Conv2D(64, (3, 3)))\n"
                  "model.add(Flatten())\nmodel.add(Dense(num_classes))\n")
    result = project.check()
    assert found(result) == ["mobile_a.txt B401"], result.output
    assert "pyproject.toml per-path mobile*.txt" in project.check("--output-format", "full"
                                                                  ).stdout


def test_rounding_and_input_from_config(project):
    project.write("a.txt", BROKEN)
    project.config('rounding = "floor"')
    result = project.check()
    assert found(result) == ["a.txt G107"] and result.exit_code == 0
    project.write("b.txt", "FC1: 10 neurons\n")
    # the configured input is for a spec that gives none: a.txt's own 224x224 stands...
    project.config('input = "100"\n[[tool.cnncalc.per-path]]\npath = "a.txt"\n'
                   'input = [227, 227, 3]')
    assert found(project.check()) == ["a.txt G101"]
    # ...and without its INPUT line it is read at the per-path 227x227x3, where it fits
    project.write("a.txt", BROKEN.split("\n", 1)[1])
    assert project.check().exit_code == 0


def test_select_by_prefix(project):
    project.config('select = ["G"]')
    project.write("a.txt", SHRINK)
    project.write("b.txt", BROKEN)
    assert found(project.check()) == ["b.txt G101"]
    assert found(project.check("--select", "W5,D")) == ["a.txt W501"]


def test_config_file_option(project, tmp_path):
    other = tmp_path / "elsewhere" / "cnncalc.toml"
    other.parent.mkdir()
    other.write_text('ignore = ["W501"]\n', encoding="utf-8")
    project.write("a.txt", SHRINK)
    assert project.check("--config", str(other)).exit_code == 0
    assert found(project.check("--config", str(other))) == []
    nothing = tmp_path / "elsewhere" / "pyproject.toml"
    nothing.write_text("[project]\nname = 'x'\n", encoding="utf-8")
    result = project.check("--config", str(nothing))
    assert result.exit_code == 2 and "no [tool.cnncalc] table" in result.stderr


@pytest.mark.parametrize(("body", "says"), [
    ('max_params = "5M"', "tool.cnncalc.max_params: unknown key; did you mean 'max-params'?"),
    ('colour = "red"', "tool.cnncalc.colour: unknown key"),
    ('max-params = "5X"', "tool.cnncalc.max-params: '5X' is not a count"),
    ('max-activations = "5M"', "tool.cnncalc.max-activations: '5M': say which bytes"),
    ('max-macs = true', "tool.cnncalc.max-macs: true is not a count"),
    ('select = ["Q1"]', "tool.cnncalc.select: 'Q1' matches no rule code"),
    ('ignore = "W501"\nfail-on = "fatal"', "tool.cnncalc.fail-on: 'fatal' is not one of"),
    ("batch = 0", "tool.cnncalc.batch: 0 is not 1 or more"),
    ('batch = "2"', "tool.cnncalc.batch: '2' is not a whole number"),
    ('dtype = "int4"', "tool.cnncalc.dtype: 'int4' is not one of"),
    ('rounding = "up"', "tool.cnncalc.rounding: 'up' is not one of strict, floor, ceil"),
    ('notation = "caffe"', "tool.cnncalc.notation: 'caffe' is not one of"),
    ('input = "3x3"', "tool.cnncalc.input: '3x3' is not a volume"),
    ("include = [1]", "tool.cnncalc.include: [1] is not a list of strings"),
    ("force-exclude = 1", "tool.cnncalc.force-exclude: 1 is not true or false"),
    ('output-format = "xml"', "tool.cnncalc.output-format: 'xml' is not one of"),
    ("define = { num_classes = [1] }", "tool.cnncalc.define.num_classes: [1] is not a number"),
    ('[[tool.cnncalc.per-path]]\nmax-params = "1M"', "tool.cnncalc.per-path[0].path: is "
     "required"),
    ('[[tool.cnncalc.per-path]]\npath = "x"\nfail-on = "warning"',
     "tool.cnncalc.per-path[0].fail-on: unknown key"),
    ("per-path = 3", "tool.cnncalc.per-path: is not an array of tables"),
])
def test_bad_config_exits_2_naming_the_key(project, body, says):
    project.config(body)
    project.write("a.txt", LENET)
    result = project.check()
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert f"pyproject.toml: {says}" in result.stderr


def test_invalid_toml_exits_2(project):
    project.write("pyproject.toml", "[tool.cnncalc\n")
    result = project.check()
    assert result.exit_code == 2 and "not valid TOML" in result.stderr


@pytest.mark.parametrize(("args", "says"), [
    (["--max-params", "5X"], "Invalid value for '--max-params'"),
    (["--max-activations", "1G"], "say which bytes"),
    (["--select", "Z"], "'Z' matches no rule code"),
    (["--fail-on", "fatal"], "Invalid value for '--fail-on'"),
    (["--define", "oops"], "write NAME=VALUE"),
])
def test_bad_flags_exit_2(project, args, says):
    project.config("")
    result = project.check(*args)
    assert result.exit_code == 2
    assert says in result.stderr


def test_the_configured_input_is_for_specs_that_give_none(project):
    """``input =`` in the configuration is the input of a spec that gives none; a spec's own
    INPUT line, ``# cnncalc: input`` comment or Keras ``Input(shape=...)`` stands (at 32x32
    the first spec would be under its budget; at its own 224x224 it is 2,007,498 params).
    ``--input`` on the command line overrides every spec's, as ``show``'s does."""
    lecture = ("[224x224x3] INPUT\nCONV1: 16 3x3 filters at stride 1, pad 1\n"
               "POOL1: 2x2 filters at stride 2\nFC: 10 neurons\n")
    project.write("own.txt", lecture)
    project.write("comment.txt", "# cnncalc: input 224x224x3\n" + lecture.split("\n", 1)[1])
    project.write("keras.txt", "model = Sequential()\nmodel.add(Conv2D(16, (3, 3), padding="
                  "'same', input_shape=(224, 224, 3)))\nmodel.add(MaxPooling2D((2, 2)))\n"
                  "model.add(Flatten())\nmodel.add(Dense(10))\n")
    project.write("none.txt", lecture.split("\n", 1)[1])
    project.config('input = "32x32x3"\nmax-params = "1M"')
    result = project.check()
    assert found(result) == ["comment.txt B401", "keras.txt B401", "own.txt B401"], \
        result.output
    assert "2,007,498 params" in result.stdout
    # none.txt, at the configured 32x32x3: 448 + 16*16*16*10 + 10 params, under the budget
    assert found(project.check("--input", "32x32x3")) == []
    assert found(project.check("--input", "224x224x3")) == [
        "comment.txt B401", "keras.txt B401", "none.txt B401", "own.txt B401"]
