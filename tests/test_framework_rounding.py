"""A size that is not whole, rounded: information (I302) in Keras and PyTorch text, whose
arithmetic is the framework's; a warning (G107) in the strict notations (issue 14, part 4)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from helpers import analyze_text

from cnncalc.analyze import analyze
from cnncalc.cli import cli
from cnncalc.diagnostics import Severity
from cnncalc.parse import parse_text

PYTORCH = "# cnncalc: input 224x224x3\nnn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2)\n"
KERAS = ("model = Sequential()\n"
         "model.add(Conv2D(96, (11, 11), strides=4, input_shape=(224, 224, 3)))\n")
LECTURE = "ROUNDING: floor\n[224x224x3] INPUT\nCONV1: 96 11x11 filters at stride 4, pad 0\n"
CEIL_POOL = "# cnncalc: input 56x56x8\nnn.MaxPool2d(kernel_size=2, stride=2, ceil_mode=True)\n"


def test_pytorch_floor_is_information() -> None:
    (d,) = analyze_text(PYTORCH).diagnostics
    assert (d.code, d.severity) == ("I302", Severity.INFO)
    # (224 - 11 + 2*2)/4 + 1 = 55.25, floored as torch.nn.Conv2d floors it
    assert d.message == ("0: (224 - 11 + 2*2)/4 + 1 = 55.25 is rounded down (floor) to 55, "
                         "as PyTorch does")
    assert d.hint == ""  # nothing to fix


def test_keras_floor_is_information() -> None:
    (d,) = analyze_text(KERAS).diagnostics
    assert d.code == "I302" and d.message.endswith("to 54, as Keras does")  # 54.25 floored


def test_a_ceil_mode_pool_in_pytorch_text_is_information() -> None:
    # MaxPool2d(2, 2, ceil_mode=True) on 56: (56 - 2)/2 + 1 = 28, whole: nothing to say;
    # on 57 it is 28.5, rounded up to 29 as PyTorch does
    assert analyze_text(CEIL_POOL).diagnostics == ()
    (d,) = analyze_text(CEIL_POOL.replace("56x56x8", "57x57x8")).diagnostics
    assert d.code == "I302" and "rounded up (ceil mode) to 29, as PyTorch does" in d.message


def test_the_lecture_keeps_its_warning_even_under_floor() -> None:
    (d,) = analyze_text(LECTURE).diagnostics
    assert (d.code, d.severity) == ("G107", Severity.WARNING)


def test_a_policy_that_is_not_the_frameworks_keeps_the_warning() -> None:
    # --rounding ceil on PyTorch text: 56, not what PyTorch computes (55): a warning
    a = analyze(parse_text(PYTORCH, "net.txt"), rounding="ceil")
    assert [d.code for d in a.diagnostics] == ["G107"]
    assert a.layers[0].output_shape == (56, 56, 64)


def test_fail_on_warning_passes_a_floored_pytorch_text_and_fails_the_lecture(
        tmp_path: Path) -> None:
    runner = CliRunner()
    (tmp_path / "net.txt").write_text(PYTORCH, encoding="utf-8")
    (tmp_path / "notes.txt").write_text(LECTURE, encoding="utf-8")
    ok = runner.invoke(cli, ["check", "--fail-on", "warning", str(tmp_path / "net.txt")])
    assert ok.exit_code == 0, ok.output
    assert "I302" in ok.output
    bad = runner.invoke(cli, ["check", "--fail-on", "warning", str(tmp_path / "notes.txt")])
    assert bad.exit_code == 1 and "G107" in bad.output


def test_a_dropped_last_window_is_said_and_the_summary_names_each_direction() -> None:
    """MaxPool2d(2, 2, 1, ceil_mode=True) on 5: 3.5 rounds up to 4, and PyTorch drops the
    last window, which would start in the padding: 3. The summary line says which layers were
    rounded down and which up, not the policy's name (a ceil-mode pool rounds up under any)."""
    a = analyze_text("# cnncalc: input 5x5x4\nnn.MaxPool2d(2, 2, 1, ceil_mode=True)\n")
    (d,) = a.diagnostics
    assert d.message.endswith("(5 - 2 + 2*1)/2 + 1 = 3.5 is rounded up (ceil mode) to 4, less "
                              "a last window that would start in the padding: 3, as PyTorch "
                              "does")
    assert a.layers[-1].output_shape == (3, 3, 4)
    # CONV1: (9 - 2)/2 + 1 = 4.5, floored to 4; POOL1: (4 - 3 + 2)/2 + 1 = 2.5, up to 3
    lecture = ("ROUNDING: floor\n[9x9x4] INPUT\nCONV1: 4 2x2 filters at stride 2\n"
               "POOL1: 3x3 filters at stride 2, pad 1, ceil\n")
    out = CliRunner().invoke(cli, ["show", "--width", "300", "-"], input=lecture).stdout
    assert "; rounded down (floor): CONV1; rounded up (ceil mode): POOL1." in out
