"""An input volume written in PyTorch's CxHxW order, or as one side alone, gets a hint that
names the HxWxC volume meant (issue 14, part 5). The figures and the error stay what the
volume as given makes them; only the advice changes."""

from __future__ import annotations

import pytest

from cnncalc.cli import cli
from tests.helpers import analyze_text

PRINTED = """\
AlexNet(
  (features): Sequential(
    (0): Conv2d(3, 64, kernel_size=(11, 11), stride=(4, 4), padding=(2, 2))
    (1): ReLU(inplace=True)
  )
)
"""

CHW_HINT = ("volumes are HxWxC, so 3x224x224 is 3 high, 224 wide and 224 deep; for 3 "
            "channels of 224x224 (PyTorch's CxHxW order) write 224x224x3")


def _errors(text, shape=None):
    a = analyze_text(text, input_override=shape)
    return [d for d in a.diagnostics if d.severity.value == "error"]


def test_chw_input_on_printed_pytorch_names_hwc():
    errors = _errors(PRINTED, (3, 224, 224))
    assert [(d.code, d.message, d.hint) for d in errors] == [(
        "G102",
        "features.0: an 11x11 filter is larger than its 3-high input (7 with padding): "
        "(3 - 11 + 2*2)/4 + 1 = 0",
        CHW_HINT)]


def test_chw_input_on_declared_channels_names_hwc():
    """A conv declaring `in 3` that receives 224: C001, with the order hint."""
    errors = _errors("CONV1: 96 3x3 filters, in 3\n", (3, 224, 224))
    assert [(d.code, d.hint) for d in errors] == [("C001", CHW_HINT)]


def test_flat_input_before_a_conv_names_hxwxc():
    errors = _errors(PRINTED, (224,))
    assert [(d.code, d.hint) for d in errors] == [(
        "G104",
        "224 is read as a flat vector of 224 values, and a conv reads an HxWxC volume: for "
        "a 224x224 image write 224x224xC (224x224x3 for the 3 input channels it declares)")]


def test_flat_input_before_an_undeclared_conv():
    errors = _errors("CONV1: 8 3x3 filters\n", (32,))
    assert [d.hint for d in errors] == [
        "32 is read as a flat vector of 32 values, and a conv reads an HxWxC volume: for a "
        "32x32 image write 32x32xC"]


@pytest.mark.parametrize(("text", "shape"), [
    ("CONV1: 96 11x11 filters at stride 4\n", (224, 224, 3)),   # HxWxC that does not fit
    ("CONV1: 8 3x3 filters, in 64\n", (64, 64, 3)),             # a real channel mismatch
    ("CONV1: 8 3x3 filters, in 4\n", (3, 224, 224)),            # declares 4, not the 3 given
])
def test_no_order_hint_where_the_order_is_not_the_problem(text, shape):
    errors = _errors(text, shape)
    assert errors
    assert all("HxWxC" not in (d.hint or "") for d in errors)


def test_cli_shows_the_hint(runner, tmp_path):
    spec = tmp_path / "alexnet.txt"
    spec.write_text(PRINTED)
    result = runner.invoke(cli, ["show", str(spec), "--input", "3x224x224"])
    assert result.exit_code == 1
    assert f"  hint: {CHW_HINT}" in result.stderr.splitlines()
