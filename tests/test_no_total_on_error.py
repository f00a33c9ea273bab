"""No total rests on an error: for every error code that can sit on a layer, that layer is an
error, every layer after it is not computed, the totals are withheld (``totals: null`` in
JSON, ``incomplete`` in the table) and ``show`` exits 1.

Each case is a network of three or four layers whose middle layer carries the error; the
layer before it computes."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from cnncalc.cli import cli
from cnncalc.diagnostics import RULES, Severity

LECTURE = "[8x8x3] INPUT\nCONV1: 8 3x3 filters\n{}\nFC: 10\n"
KERAS = ("model = Sequential()\nmodel.add(Conv2D(8, 3, input_shape=(8, 8, 3)))\n"
         "model.add({})\nmodel.add(Dense(10))\n")
TORCH = ("nn.Sequential(\n  nn.Conv2d(3, 8, 3),\n  {},\n  nn.Flatten(),\n  nn.Linear(32, 10))\n"
         "# cnncalc: input 8x8x3\n")
TORCH_CODE = ("# cnncalc: input 8x8x3\nimport torch.nn as nn\nimport torch.nn.functional as F\n"
              "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
              "        self.conv = nn.Conv2d(3, 8, 3)\n        self.fc = nn.Linear(288, 10)\n"
              "    def forward(self, x):\n        x = self.conv(x)\n        {}\n"
              "        return self.fc(x.flatten(1))\nnet = Net()\n")

CASES: list[tuple[str, str, str]] = [
    # (code, file suffix, text): the error is on the second layer
    ("P001", "txt", LECTURE.format("CONV2: 8 3x3 bogus")),
    ("P001", "txt", "INPUT: [8x8x3]\nCONV3-8: [8x8x8]\nCONV3-8: [8x8x8] weights: abc\nFC-10\n"),
    ("P002", "txt", LECTURE.format("FOO2: 8 3x3")),
    ("P002", "py", KERAS.format("Conv9D(8, 3)")),
    ("P002", "txt", TORCH.format("nn.Conv9d(8, 8, 3)")),
    ("P003", "txt", LECTURE.format("[6x6x] CONV2: 8 1x1 filters")),
    ("P008", "py", KERAS.format("Conv2D(n, 3)")),
    ("P008", "txt", TORCH.format("nn.Conv2d(8, n, 3)")),
    ("P009", "py", KERAS.format("Conv2D(f(2), 3)")),
    ("P010", "py", KERAS.format("Conv2D(8, 3, bogus=1)")),
    ("P010", "txt", TORCH.format("nn.Conv2d(8, 8, 3, bogus=2)")),
    ("P011", "py", KERAS.format("Conv2D(8, 3, data_format='channels_first')")),
    # more layers than the cap: reading stops, a layer stands for the rest, nothing after it
    ("P012", "txt", "Sequential(\n  (0): Conv2d(3, 8, 3)\n  (1-3): 200000 x ReLU()\n"
     "  (4): ReLU()\n)\n# cnncalc: input 8x8x3\n"),
    ("G101", "txt", LECTURE.format("CONV2: 8 3x3 filters at stride 2")),
    ("G102", "txt", LECTURE.format("CONV2: 8 9x9 filters")),
    ("G103", "txt", LECTURE.format("CONV2: 8 3x3 filters at stride 2, pad ?")),
    ("G104", "txt", "[8x8x3] INPUT\nFC: 10\nCONV2: 8 1x1 filters\nFC: 10\n"),
    ("G106", "txt", LECTURE.format("CONV2: 8 3x3 filters at stride 0")),
    ("G108", "txt", LECTURE.format("CONV2: 1" + "0" * 4200 + " 1x1 filters")),
    ("G108", "txt", LECTURE.format("CONV2: 8 3x3 filters at stride 1" + "0" * 4250)),
    ("G102", "txt", LECTURE.format("ZEROPAD: top -3, bottom -3, left 0, right 0")),
    ("C001", "txt", LECTURE.format("CONV2: 8 3x3 filters, in 4")),
    ("C001", "txt", TORCH.format("nn.Conv2d(4, 8, 3)")),
    ("C002", "txt", LECTURE.format("CONV2: 6 3x3 filters, groups 4")),
    ("D201", "txt", LECTURE.format("[5x5x8] CONV2: 8 3x3 filters")),
    ("P016", "txt", LECTURE.format("ADD from CONV1, CONV9")),
    ("P017", "txt", LECTURE.format("ADD from CONV1")),
    ("P017", "txt", LECTURE.format("CONV2 from CONV1, INPUT: 8 1x1 filters")),
    ("G109", "txt", LECTURE.format("ADD from CONV1, INPUT")),
    ("G109", "txt", LECTURE.format("MULTIPLY from CONV1, INPUT")),
    ("G110", "txt", LECTURE.format("CONCAT from CONV1, INPUT")),
    ("G111", "txt", LECTURE.format("CROP: 7x7")),
    ("G111", "txt", LECTURE.format("CROP: like INPUT")),
    ("C003", "txt", LECTURE.format("SLICE: channels 4 to 12")),
    ("C003", "txt", LECTURE.format("SHUFFLE: 3 groups")),
    ("P021", "py", TORCH_CODE.format("x = x * 0.5")),
    ("P022", "py", TORCH_CODE.format("for _ in range(10 ** 9): x = F.relu(x)")),
]

# error codes that never sit on a layer: about the input, the file, or the whole network
NOT_ON_A_LAYER = {"P004", "P005", "P006", "P007", "P013", "P015", "P018", "P020", "G105", "B401",
                  "B402", "B403", "B405",
                  "P023", "P024"}  # PyTorch code whose params total is not the network's


def test_every_layer_error_code_has_a_case() -> None:
    on_layers = {code for code, rule in RULES.items()
                 if rule.severity is Severity.ERROR and code not in NOT_ON_A_LAYER}
    assert on_layers <= {code for code, _, _ in CASES}


@pytest.mark.parametrize(("code", "suffix", "text"), CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_an_error_on_a_layer_withholds_what_depends_on_it(
        tmp_path, code: str, suffix: str, text: str) -> None:
    path = tmp_path / f"net.{suffix}"
    path.write_text(text, encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(cli, ["show", "--format", "json", str(path)])
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    assert code in {d["code"] for d in data["diagnostics"]}
    statuses = [x["status"] for x in data["layers"]]
    first_error = statuses.index("error")
    assert first_error == 1, statuses
    assert statuses[0] == "ok"
    assert set(statuses[2:]) <= {"not-computed"}, statuses  # (none after a P012)
    for x in data["layers"][1:]:
        assert x["output_shape"] is None
        assert x["params"] is None and x["macs"] is None and x["activations"] is None
    assert data["totals"] is None

    table = runner.invoke(cli, ["show", str(path)])
    assert table.exit_code == 1
    assert "incomplete" in table.stdout
    assert "withheld" in table.stdout
