"""The built-in specs (issue 14, part 10): a name, not a path, reads a shipped spec in every
command that takes a SPEC; a path that exists wins; an unknown name lists the built-in ones;
`cnncalc zoo` lists them with computed params and MACs; and all of it works from a wheel
installed outside the repository."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import ROOT, SPECS

from cnncalc import zoo
from cnncalc.cli import cli

LENET = "[32x32x1] INPUT\nCONV1: 6 5x5 filters\nFC2: 10 neurons\n"  # 47,206 params

# Independent reference figures (docs: GUIDE.md, the papers, torchvision)
REFERENCE = {
    "alexnet": (62_378_344, 1_135_256_096),
    "lenet5": (61_706, None),
    "vgg16": (138_357_544, 15_470_264_320),
    "resnet18": (11_689_512, 1_814_073_344),
    "resnet50": (25_557_032, 4_089_184_256),
    "googlenet": (6_624_904, 1_498_376_192),
    "densenet121": (7_978_856, 2_834_161_664),
    "mobilenet_v2": (3_504_872, 300_774_272),
    "mobilenet_v1": (4_231_976, None),
}


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


@pytest.fixture
def elsewhere(tmp_path, monkeypatch):
    """A current directory outside the repository."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_zoo_is_the_repositorys_specs_directory():
    assert zoo.names() == sorted(p.stem for p in SPECS.glob("*.txt"))
    assert zoo.ZOO.resolve() == SPECS.resolve()
    assert zoo.path_of("AlexNet") == zoo.path_of("alexnet.txt") == zoo.ZOO / "alexnet.txt"
    assert zoo.path_of("specs/alexnet") is None and zoo.path_of("nothing") is None


@pytest.mark.parametrize("command", [
    ["show", "--format", "json"], ["check", "--output-format", "json"],
    ["run", "--format", "json", "--quiet"]])
def test_a_name_reads_a_built_in_spec_in_every_command(elsewhere, command):
    name = "lenet5"
    result = invoke(*command, name)
    assert result.exit_code == 0, result.output
    if command[0] == "show":
        assert json.loads(result.stdout)["totals"]["params"] == 61_706
    if command[0] == "check":
        assert json.loads(result.stdout)["files"][0]["path"] == str(SPECS.resolve() / "lenet5.txt")


def test_diff_takes_names_on_both_sides(elsewhere):
    result = invoke("diff", "mobilenet_v1", "keras_mobilenet")
    assert result.exit_code == 0, result.output
    assert "agree" in result.stdout


def test_in_the_repository_a_name_shows_as_its_path(monkeypatch):
    monkeypatch.chdir(ROOT)
    result = invoke("show", "--format", "json", "alexnet")
    assert json.loads(result.stdout)["path"] == "specs/alexnet.txt"


def test_a_path_that_exists_wins_over_a_name(elsewhere):
    (elsewhere / "alexnet").write_text(LENET, encoding="utf-8")
    result = invoke("show", "--format", "json", "alexnet")
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert (record["path"], record["totals"]["params"]) == ("alexnet", 47_206)
    result = invoke("check", "--output-format", "json", "alexnet")
    assert json.loads(result.stdout)["files"][0]["path"] == "alexnet"


@pytest.mark.parametrize("command", [["show"], ["run"], ["diff", "alexnet"]])
def test_an_unknown_name_lists_the_built_in_ones(elsewhere, command):
    result = invoke(*command, "alexnt")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "alexnt: no such file, nor a built-in spec (did you mean alexnet" in result.stderr
    assert "built-in specs: alexnet, alexnet224, densenet121," in result.stderr
    assert "`cnncalc zoo` lists them" in result.stderr


def test_check_reports_an_unknown_name_as_a_path_it_could_not_check(elsewhere):
    result = invoke("check", "lenet5", "vgg61")
    assert result.exit_code == 2
    assert "cnncalc: error: vgg61: no such file, nor a built-in spec (did you mean vgg16?" \
        in result.stderr


def test_a_missing_path_is_not_a_name_but_points_at_one(elsewhere):
    result = invoke("show", "specs/alexnet.txt")
    assert result.exit_code == 2
    assert "specs/alexnet.txt: the file does not exist; the built-in spec alexnet is read by " \
        "its name alone" in result.stderr
    assert "built-in specs:" not in result.stderr


def test_zoo_lists_every_built_in_spec_with_computed_figures(elsewhere):
    result = invoke("zoo", "--format", "json")
    assert result.exit_code == 0, result.output
    specs = {s["name"]: s for s in json.loads(result.stdout)["specs"]}
    assert sorted(specs) == zoo.names()
    for name, (params, macs) in REFERENCE.items():
        assert specs[name]["params"] == params, name
        if macs is not None:
            assert specs[name]["macs"] == macs, name
    # the deliberately broken spec and the one that needs --define have no totals, and say why
    assert specs["alexnet224"]["params"] is None and "G101" in specs["alexnet224"]["error"]
    assert specs["keras_mnist"]["macs"] is None and "P008" in specs["keras_mnist"]["error"]
    assert specs["vgg16"]["error"] is None


def test_zoo_table(elsewhere):
    result = invoke("zoo")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["name", "notation", "input", "layers", "params", "MACs"]
    assert lines[1].split() == ["alexnet", "lecture", "227x227x3", "13", "62,378,344",
                                "1,135,256,096"]
    assert any(line.split()[:2] == ["alexnet224", "lecture"] and line.split()[-2:] == ["-", "-"]
               for line in lines)
    assert any(line.startswith("alexnet224: has errors (G101 at line 6") for line in lines)
    assert f"{len(zoo.names())} built-in specs" in result.stdout


# --- installed from a wheel, run outside the repository --------------------------------------

def _copy_source(to: Path) -> None:
    """What a wheel is built from, so that the build leaves nothing in the repository."""
    to.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, to / name)
    shutil.copytree(ROOT / "specs", to / "specs")
    shutil.copytree(ROOT / "cnncalc", to / "cnncalc", symlinks=True,
                    ignore=shutil.ignore_patterns("__pycache__"))
    assert (to / "cnncalc" / "specs").is_symlink()


def _install(wheel: Path, where: Path) -> tuple[list[str], str, dict[str, str]]:
    """(the command that runs the installed cnncalc, its Python, their environment): a fresh
    virtual environment when pip can install the wheel's dependencies there (offline, from
    the configured index), else the wheel alone in a directory on PYTHONPATH, run by this
    interpreter (which has click, rich and numpy)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env_dir = where / "venv"
    try:
        venv.create(env_dir, with_pip=True)
        pip = subprocess.run([str(env_dir / "bin" / "python"), "-m", "pip", "install", "-q",
                              str(wheel)], capture_output=True, text=True, timeout=240,
                             check=False, env=env)
        if pip.returncode == 0:
            return [str(env_dir / "bin" / "cnncalc")], str(env_dir / "bin" / "python"), env
    except (OSError, subprocess.SubprocessError):
        pass
    target = where / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target",
                    str(target), str(wheel)], check=True, capture_output=True, timeout=240)
    return [sys.executable, "-m", "cnncalc"], sys.executable, {**env, "PYTHONPATH": str(target)}


@pytest.mark.slow
def test_a_wheel_installed_outside_the_repository_has_the_zoo(tmp_path):
    source = tmp_path / "source"
    _copy_source(source)
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels),
                    str(source)], check=True, capture_output=True, timeout=240)
    (wheel,) = wheels.glob("cnncalc-*.whl")
    command, python, env = _install(wheel, tmp_path)
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*command, *args], cwd=cwd, env=env, capture_output=True,
                              text=True, timeout=120, check=False)

    probe = subprocess.run([python, "-c", "import cnncalc; print(cnncalc.__file__)"], cwd=cwd,
                           env=env, capture_output=True, text=True, check=True)
    assert str(ROOT) not in probe.stdout and str(tmp_path) in probe.stdout, probe.stdout
    shown = run("show", "--format", "json", "alexnet")
    assert shown.returncode == 0, shown.stderr
    record = json.loads(shown.stdout)
    assert record["totals"]["params"] == 62_378_344
    assert record["path"].endswith("cnncalc/specs/alexnet.txt")
    assert not Path(record["path"]).is_symlink()  # a real file in the installed package
    table = run("show", "alexnet")
    assert table.returncode == 0 and "CONV1" in table.stdout
    listed = run("zoo")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines()[1].split() == [
        "alexnet", "lecture", "227x227x3", "13", "62,378,344", "1,135,256,096"]
    assert f"{len(zoo.names())} built-in specs" in listed.stdout
