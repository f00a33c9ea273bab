"""`cnncalc conv` with every option the canonical notation has for one layer (issue 14,
part 3). Figures hand-worked in the comments; the command computes through the analysis, so
each case is also checked against `show` of the same layer written in the notation."""

from __future__ import annotations

import json

import pytest

from cnncalc.cli import cli
from tests.helpers import analyze_text


def _conv(runner, *args):
    return runner.invoke(cli, ["conv", *args])


@pytest.mark.parametrize(("args", "lines"), [
    # same, stride 2 on 7: output ceil(7/2) = 4, pad (4-1)*2 + 3 - 7 = 2 -> 1 before, 1 after
    (["7x7x3", "3", "-s", "2", "-p", "same", "-k", "8"],
     ["(7 - 3 + 2*1)/2 + 1 = 4", "output 4x4x8",
      "weights 216 (3*3*3*8), biases 8, params 224",
      "MACs 3,456 (4*4*8 outputs x 3*3*3), FLOPs 6,912"]),
    # same, stride 2 on 8: output 4, pad (4-1)*2 + 3 - 8 = 1 -> 0 before, 1 after
    (["8", "3", "-s", "2", "-p", "same"], ["(8 - 3 + 0 + 1)/2 + 1 = 4", "output 4x4"]),
    (["7", "3", "-p", "valid"], ["(7 - 3 + 2*0)/1 + 1 = 5", "output 5x5"]),
    # dilation 2: a 3-tap filter spans 5; (32 - 5 + 4)/1 + 1 = 32
    (["32x32x16", "3", "-d", "2", "-p", "2", "-k", "16"],
     ["span 2*(3 - 1) + 1 = 5; (32 - 5 + 2*2)/1 + 1 = 32", "output 32x32x16",
      "weights 2,304 (3*3*16*16), biases 16, params 2,320",
      "MACs 2,359,296 (32*32*16 outputs x 3*3*16), FLOPs 4,718,592"]),
    # groups 2, pads 1/1 high and 0/1 wide: 3*3*(64/2)*128 = 36,864 weights;
    # 29*28*128 outputs * 3*3*32 = 29,933,568 MACs
    (["57x56x64", "3", "-s", "2", "-p", "1x0,1", "-k", "128", "-g", "2"],
     ["height: (57 - 3 + 2*1)/2 + 1 = 29", "width: (56 - 3 + 0 + 1)/2 + 1 = 28",
      "output 29x28x128", "weights 36,864 (3*3*(64/2)*128), biases 128, params 36,992",
      "MACs 29,933,568 (29*28*128 outputs x 3*3*(64/2)), FLOPs 59,867,136"]),
    # depthwise, multiplier 2, no bias: 3*3*1*64 = 576 weights; 56*56*64 * 3*3 MACs
    (["56x56x32", "3", "-p", "1", "--multiplier", "2", "--no-bias"],
     ["(56 - 3 + 2*1)/1 + 1 = 56", "output 56x56x64",
      "weights 576 (3*3*1*64), biases 0, params 576",
      "MACs 1,806,336 (56*56*64 outputs x 3*3*1), FLOPs 3,612,672"]),
    # transposed: (7 - 1)*2 - 2 + (3 - 1) + 1 + 1 = 14 (torch.nn.ConvTranspose2d(64, 32, 3,
    # stride=2, padding=1, output_padding=1) on 7x7 gives 14x14); MACs 7*7*64 * 3*3*32
    (["7x7x64", "3", "-s", "2", "-p", "1", "--transposed", "--output-padding", "1", "-k", "32"],
     ["(7 - 1)*2 - 2*1 + 1*(3 - 1) + 1 + 1 = 14", "output 14x14x32",
      "weights 18,432 (3*3*64*32), biases 32, params 18,464",
      "MACs 903,168 (7*7*64 inputs x 3*3*32), FLOPs 1,806,336"]),
    # ceil-mode pooling: (112 - 3)/2 + 1 = 55.5 rounds up to 56
    (["112x112x64", "3", "--pool", "-s", "2", "--ceil"],
     ["(112 - 3)/2 + 1 = 55.5 is rounded up (ceil mode) to 56"]),
    # ceil-mode pooling that drops a last window starting in the padding (PyTorch: 3, as
    # torch.nn.MaxPool2d(2, 2, 1, ceil_mode=True) gives on 5x5)
    (["5x5x4", "2", "--pool", "-s", "2", "-p", "1", "--ceil"],
     ["(5 - 2 + 2*1)/2 + 1 = 3.5 is rounded up (ceil mode) to 4, less a last window that "
      "would start in the padding: 3"]),
])
def test_conv_options(runner, args, lines):
    result = _conv(runner, *args)
    assert result.exit_code == 0, result.output
    out = result.stdout.splitlines()
    assert out[:len(lines)] == lines


@pytest.mark.parametrize(("args", "line"), [
    (["7x7x3", "3", "-s", "2", "-p", "same", "-k", "8"],
     "CONV1: 8 3x3 filters at stride 2, pad same"),
    (["32x32x16", "3", "-d", "2", "-p", "2", "-k", "16"],
     "CONV1: 16 3x3 filters, pad 2, dilation 2"),
    (["57x57x64", "3", "-s", "2", "-p", "1", "-k", "128", "-g", "4", "--no-bias"],
     "CONV1: 128 3x3 filters at stride 2, pad 1, groups 4, no bias"),
    (["56x56x32", "3", "-p", "1", "--multiplier", "2"],
     "DWCONV1: 3x3 filters, pad 1, multiplier 2"),
    (["7x7x64", "3", "-s", "2", "-p", "1", "--transposed", "--output-padding", "1", "-k", "32"],
     "DECONV1: 32 3x3 filters at stride 2, pad 1, output padding 1"),
    (["112x112x64", "3", "--pool", "-s", "2", "--ceil"],
     "MAX POOL1: 3x3 filters at stride 2, ceil"),
])
def test_conv_agrees_with_the_notation(runner, args, line):
    """The command's JSON record and the analysis of the same layer written as a spec line."""
    result = _conv(runner, *args, "--format", "json")
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    size = args[0]
    a = analyze_text(f"[{size}] INPUT\n{line}\n")
    r = a.layers[0]
    assert record["output_shape"] == list(r.output_shape)
    assert (record["weights"], record["biases"], record["macs"]) == (r.weights, r.biases, r.macs)
    assert record["fits"] is True and record["kind"] == r.layer.kind


def test_conv_json_of_a_layer_that_does_not_fit(runner):
    result = _conv(runner, "7", "3", "-s", "3", "--format", "json")
    assert result.exit_code == 1
    record = json.loads(result.stdout)
    assert record["fits"] is False and record["output_shape"] is None
    assert [d["code"] for d in record["diagnostics"]] == ["G101"]


@pytest.mark.parametrize(("args", "message"), [
    (["7", "3", "--pool", "-k", "3"], "--pool is a pooling window: --filters describe a conv"),
    (["7", "3", "--ceil"], "--ceil is pooling's ceil mode"),
    (["7", "3", "-g", "2"], "--groups splits the input channels and the filters"),
    (["7x7x4", "3", "--multiplier", "2", "-k", "8"], "a depthwise conv has one group"),
    (["7", "3", "--output-padding", "1"], "--output-padding is a transposed conv's"),
    (["7", "3", "-p", "1,2,3"], "TOP,BOTTOMxLEFT,RIGHT"),
    (["7", "3", "-d", "0"], "--dilation"),
])
def test_conv_option_usage_errors(runner, args, message):
    result = _conv(runner, *args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert message in result.stderr


@pytest.mark.parametrize(("args", "first"), [
    (["56x56x64", "3", "-k", "128", "-g", "3"],
     "error: 3 groups do not divide 64 input channels and 128 filters"),
    (["7x7x3", "3", "--transposed", "--output-padding", "1", "-k", "2"],
     "error: output_padding 1 must be smaller than the stride 1 or the dilation 1"),
    (["7", "9"], "does not fit: a 9x9 filter is larger than its 7-wide input (7 with padding): "
     "(7 - 9)/1 + 1 = -1"),
])
def test_conv_settings_that_give_no_output(runner, args, first):
    result = _conv(runner, *args)
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == first
    assert "\noutput" not in result.stdout
