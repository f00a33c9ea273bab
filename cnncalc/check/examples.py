"""Passing and failing examples for the codes the analysis itself reports (P, G, C, D, I) and
for the suppression codes (S), for ``cnncalc rules CODE``. The rules ``check`` adds (B, W) keep
theirs in their docstrings. The tests run every example: the failing one must be reported with
its code, the passing one must not.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Example:
    why: str
    passing: str
    failing: str
    live: bool = True


_KERAS = "model = Sequential()\nmodel.add(Conv2D(32, (3, 3), input_shape=(28, 28, 1)))\n"

_TORCH = ("# cnncalc: input 8x8x3\nimport torch.nn as nn\nimport torch.nn.functional as F\n\n"
          "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
          "        self.conv = nn.Conv2d(3, 8, 3)\n\n    def forward(self, x):\n"
          "        {forward}\n\nnet = Net()\n")

# a GoogLeNet printed with its children stubbed (Identity), and a head it calls in training
_GOOGLENET = ("# cnncalc: input 8x8x3\nGoogLeNet(\n" + "".join(
    f"  ({name}): Identity()\n" for name in [
        "conv1", "maxpool1", "conv2", "conv3", "maxpool2", "inception3a", "inception3b",
        "maxpool3", "inception4a", "inception4b", "inception4c", "inception4d", "inception4e",
        "maxpool4", "inception5a", "inception5b"]) + "{aux}  (avgpool): AdaptiveAvgPool2d("
    "output_size=(1, 1))\n"
    "  (dropout): Dropout(p=0.2, inplace=False)\n"
    "  (fc): Linear(in_features=3, out_features=10, bias=True)\n)\n")

EXAMPLES: dict[str, Example] = {
    "P001": Example(
        "A line starts with a layer word but the rest is not what that layer takes; the "
        "message says what was expected at the caret.",
        "[32x32x3] INPUT\nCONV1: 16 3x3 filters at stride 1, pad 1\n",
        "[32x32x3] INPUT\nCONV1: 16 3x3 filters at strode 1\n"),
    "P002": Example(
        "A line that does not start with a layer word cnncalc knows. Nothing is skipped "
        "silently: a heading ends with `:`, a comment starts with `#`.",
        "[32x32x3] INPUT\nCONV1: 16 3x3 filters\n",
        "[32x32x3] INPUT\nSPLAT1: 16 3x3 filters\n"),
    "P003": Example(
        "A bracketed shape is an output volume [HxWxC] or a vector [N].",
        "[32x32x3] INPUT\n[32x32x16] CONV1: 16 3x3 filters at stride 1, pad 1\n",
        "[32x32x3] INPUT\n[32x32] CONV1: 16 3x3 filters at stride 1, pad 1\n"),
    "P016": Example(
        "A layer reads the one above it, or the earlier layers it names after `from`; "
        "INPUT is the network's input (in a block, the block's). A name not defined above is "
        "an error where it is written, so a network never has a cycle.",
        "[8x8x16] INPUT\nCONV1: 16 3x3 filters at stride 1, pad 1\nADD from CONV1, INPUT\n",
        "[8x8x16] INPUT\nCONV1: 16 3x3 filters at stride 1, pad 1\nADD from CONV1, CONV2\n"),
    "P017": Example(
        "ADD, CONCAT and MULTIPLY combine two or more layers; any other layer reads one.",
        "[8x8x16] INPUT\nCONV1: 16 3x3 filters at stride 1, pad 1\nADD from CONV1, INPUT\n",
        "[8x8x16] INPUT\nCONV1: 16 3x3 filters at stride 1, pad 1\nADD from CONV1\n"),
    "P004": Example(
        "Every size follows from the input volume: give it with an INPUT line, "
        "`# cnncalc: input HxWxC`, or --input.",
        "[32x32x3] INPUT\nCONV1: 16 3x3 filters\n",
        "CONV1: 16 3x3 filters\n"),
    "P005": Example(
        "A network has one input.",
        "[32x32x3] INPUT\nCONV1: 16 3x3 filters\n",
        "[32x32x3] INPUT\n[64x64x3] INPUT\nCONV1: 16 3x3 filters\n"),
    "P006": Example(
        "Spec files are UTF-8 text; a NUL byte or bytes that are not UTF-8 (a file saved as "
        "Latin-1, a binary file matched by an include glob) stop the check of that file.",
        "[32x32x3] INPUT  # caf\u00e9, saved as UTF-8\n",
        "[32x32x3] INPUT  # caf<byte 0xe9>, saved as Latin-1\n",
        live=False),
    "P018": Example(
        "A Markdown document (.md) is read from its fenced code blocks (those tagged "
        "```cnncalc, if any); --block N reads the N-th alone, and must name one.",
        "cnncalc show design.md --block 2   (a document with two blocks)\n",
        "cnncalc show design.md --block 3   (a document with two blocks)\n",
        live=False),
    "P020": Example(
        "`cnncalc check` follows a symbolic link to a file only when that file is one it "
        "reads anyway: inside the directory being checked (for a file named on the command "
        "line, the directory it is named in), not hidden, in no skipped directory, matched by "
        "`include` and no `exclude`. Any other link is reported and not opened: in CI it "
        "could lead to a key, a token in .git/config or a .env file, whose first line a "
        "parse error would quote into the log. Links to directories are never followed.",
        "specs/current.txt -> v2.txt   (a spec beside it)\n",
        "specs/current.txt -> ../../.ssh/id_rsa\n",
        live=False),
    "P007": Example(
        "The input comes first: every layer's size depends on it.",
        "[32x32x3] INPUT\nCONV1: 16 3x3 filters\n",
        "CONV1: 16 3x3 filters\n[32x32x3] INPUT\n"),
    "P008": Example(
        "Keras and PyTorch code is read, never run, so a name it uses needs a value: "
        "--define num_classes=10, or `define` in [tool.cnncalc].",
        _KERAS + "model.add(Dense(10))\n",
        _KERAS + "model.add(Dense(num_classes))\n"),
    "P009": Example(
        "Code that would compute or run something (a call, an attribute, a lambda) is not "
        "evaluated; write the literal value.",
        _KERAS + "model.add(Dense(10))\n",
        _KERAS + "model.add(Dense(int(10)))\n"),
    "P010": Example(
        "A keyword argument the layer does not take (a typo, or another framework's name).",
        _KERAS + "model.add(Dense(10, activation='relu'))\n",
        _KERAS + "model.add(Dense(10, colour='red'))\n"),
    "P011": Example(
        "An option cnncalc reads but cannot model, reported rather than computed wrong.",
        "model = Sequential()\nmodel.add(Conv2D(32, (3, 3), input_shape=(28, 28, 1)))\n",
        "model = Sequential()\nmodel.add(Conv2D(32, (3, 3), input_shape=(1, 28, 28), "
        "data_format='channels_first'))\n"),
    "P012": Example(
        "A spec makes at most --max-layers layers (default 100,000; max-layers in "
        "[tool.cnncalc]), across all its blocks: a few lines of repeated PyTorch blocks could "
        "otherwise ask for millions. Reading stops at the first layer over the cap, and the "
        "totals are withheld.",
        "# cnncalc: input 8x8x3\nNet(\n  (blocks): ModuleList(\n    (0-2): 3 x ReLU()\n  )\n)\n",
        "# cnncalc: input 8x8x3\nNet(\n  (blocks): ModuleList(\n"
        "    (0-100000): 100001 x ReLU()\n  )\n)\n"),
    "P013": Example(
        "A spec file is at most --max-file-size bytes (default 8 MiB; max-file-size in "
        "[tool.cnncalc]); a longer one is refused without being read, which bounds the memory "
        "a check takes.",
        "[32x32x3] INPUT\nCONV1: 16 3x3 filters\n",
        "<a spec file of 9 MiB>\n",
        live=False),
    "G101": Example(
        "(W - F + 2P)/S + 1 must be whole (the lecture's \"doesn't fit!\"); the hint lists "
        "inputs, paddings and strides that fit. --rounding floor rounds down as the "
        "frameworks do.",
        "[227x227x3] INPUT\nCONV1: 96 11x11 filters at stride 4, pad 0\n",
        "[224x224x3] INPUT\nCONV1: 96 11x11 filters at stride 4, pad 0\n"),
    "G102": Example(
        "A window larger than its padded input has no position to sit in.",
        "[8x8x3] INPUT\nCONV1: 16 5x5 filters\n",
        "[4x4x3] INPUT\nCONV1: 16 5x5 filters\n"),
    "G103": Example(
        "`pad ?` asks for the smallest padding that fits; sometimes none does.",
        "[32x32x3] INPUT\nCONV1: 16 3x3 filters at stride 1, pad ?\n",
        "[32x32x3] INPUT\nCONV1: 16 3x3 filters at stride 2, pad ?\n"),
    "G104": Example(
        "Convolution and pooling need an HxWxC volume; after an FC layer there is a vector.",
        "[32x32x3] INPUT\nCONV1: 16 3x3 filters\nFC2: 10 neurons\n",
        "[32x32x3] INPUT\nFC1: 10 neurons\nCONV2: 16 3x3 filters\n"),
    "G105": Example(
        "An input with nothing after it is almost always a truncated file.",
        "[32x32x3] INPUT\nFC1: 10 neurons\n",
        "[32x32x3] INPUT\n"),
    "G106": Example(
        "Sizes, strides and counts are 1 or more; padding 0 or more; dropout in [0, 1).",
        "[32x32x3] INPUT\nCONV1: 16 3x3 filters at stride 1\n",
        "[32x32x3] INPUT\nCONV1: 16 3x3 filters at stride 0\n"),
    "G108": Example(
        "Figures are exact integers of up to 4,200 digits; past that cnncalc refuses the "
        "layer rather than spend minutes writing out a number no network has.",
        "[32x32x3] INPUT\nFC1: 10 neurons\n",
        "[32x32x3] INPUT\nFC1: 1000...000 neurons  # a 1 and 4,200 zeros\n", live=False),
    "G109": Example(
        "An add sums equal volumes; a multiply also takes a 1x1xC gate over HxWxC. The "
        "message says which input gives which volume; the hint proposes the projection "
        "shortcut that would make a residual fit.",
        "[8x8x16] INPUT\nCONV1: 16 3x3 filters at stride 1, pad 1\nADD from CONV1, INPUT\n",
        "[8x8x16] INPUT\nCONV1: 32 2x2 filters at stride 2\nADD from CONV1, INPUT\n"),
    "G110": Example(
        "A concat stacks channels, so its inputs agree in height and width; the hint names "
        "the crop that would make them agree.",
        "[8x8x16] INPUT\nCONV1: 8 3x3 filters at stride 1, pad 1\n"
        "CONCAT from CONV1, INPUT\n",
        "[8x8x16] INPUT\nCONV1: 8 3x3 filters\nCONCAT from CONV1, INPUT\n"),
    "G111": Example(
        "A centre crop keeps at most its input's height and width, and crops to a size or "
        "to another volume's.",
        "[8x8x16] INPUT\nCONV1: 8 3x3 filters\nCROP from INPUT: like CONV1\n",
        "[8x8x16] INPUT\nCONV1: 8 3x3 filters\nCROP: like INPUT\n"),
    "G107": Example(
        "Under a rounding policy (floor, ceil) a size that is not whole is rounded, and said.",
        "ROUNDING floor\n[227x227x3] INPUT\nCONV1: 96 11x11 filters at stride 4, pad 0\n",
        "ROUNDING floor\n[224x224x3] INPUT\nCONV1: 96 11x11 filters at stride 4, pad 0\n"),
    "I302": Example(
        "PyTorch and Keras floor a size that is not whole (a ceil-mode pool rounds it up): "
        "in their text that is the framework's arithmetic, said as information, not a "
        "warning, so that --fail-on warning can gate a ResNet. The lecture's strict "
        "arithmetic warns instead (G107).",
        "model = Sequential()\nmodel.add(Conv2D(96, (11, 11), strides=4, "
        "input_shape=(227, 227, 3)))\n",
        "model = Sequential()\nmodel.add(Conv2D(96, (11, 11), strides=4, "
        "input_shape=(224, 224, 3)))\n"),
    "C001": Example(
        "A declared input channel or feature count (`in 3`, PyTorch's Conv2d(3, ...)) must be "
        "what the layer receives.",
        "[32x32x3] INPUT\nCONV1: 16 3x3 filters at stride 1, pad 1, in 3\n",
        "[32x32x3] INPUT\nCONV1: 16 3x3 filters at stride 1, pad 1, in 4\n"),
    "C002": Example(
        "Grouped convolution splits input and output channels evenly.",
        "[32x32x4] INPUT\nCONV1: 16 3x3 filters at stride 1, pad 1, groups 2\n",
        "[32x32x3] INPUT\nCONV1: 16 3x3 filters at stride 1, pad 1, groups 2\n"),
    "C003": Example(
        "A channel slice takes channels that exist (start before stop, both within the "
        "input's); a channel shuffle splits the channels into equal groups.",
        "[8x8x16] INPUT\nSLICE: channels 0 to 8\nSHUFFLE: 2 groups\n",
        "[8x8x16] INPUT\nSLICE: channels 8 to 24\n"),
    "D201": Example(
        "A [bracketed] shape is a claim about the layer's output; cnncalc checks it.",
        "[32x32x3] INPUT\n[32x32x16] CONV1: 16 3x3 filters at stride 1, pad 1\n",
        "[32x32x3] INPUT\n[30x30x16] CONV1: 16 3x3 filters at stride 1, pad 1\n"),
    "D202": Example(
        "A declared weights: figure (the VGG notes) must equal F*F*D1*K; biases are not "
        "weights.",
        "INPUT: [224x224x3]\nCONV3-64: [224x224x64]  weights: (3*3*3)*64 = 1,728\n",
        "INPUT: [224x224x3]\nCONV3-64: [224x224x64]  weights: (3*3*3)*64 = 1,792\n"),
    "P014": Example(
        "print(model) shows a module's children, not what its forward() does with them. "
        "cnncalc knows nn.Sequential and a few torchvision classes; for any other container it "
        "reads the children in order, says so, and marks (~) every volume, MAC and activation "
        "that rests on that order. Params are exact either way.",
        "# cnncalc: input 32x32x3\nSequential(\n  (0): Conv2d(3, 8, kernel_size=(3, 3))\n"
        "  (1): ReLU()\n)\n",
        "# cnncalc: input 32x32x3\nNet(\n  (conv): Conv2d(3, 8, kernel_size=(3, 3))\n"
        "  (relu): ReLU()\n)\n"),
    "P025": Example(
        "torchvision's GoogLeNet and Inception v3 call their auxiliary classifiers only in "
        "training. cnncalc reads the network as it runs in eval mode, without them, and says "
        "so: PyTorch's parameter count (the sum of p.numel()) has their params, the totals do "
        "not. Built with aux_logits=False, the model prints without them.",
        _GOOGLENET.format(aux=""),
        _GOOGLENET.format(aux="  (aux1): Linear(in_features=3, out_features=10, bias=True)\n")),
    "P015": Example(
        "One file, one network: a second model (a GAN's discriminator after its generator) is "
        "never chained onto the first. Pick one with --model NAME, or give each a file. Model "
        "code that builds no model at its top level (only classes) gets the same code: "
        "--model names the one to build.",
        "gen = Sequential()\ngen.add(Dense(64, input_shape=(100,)))\n",
        "gen = Sequential()\ngen.add(Dense(64, input_shape=(100,)))\n"
        "disc = Sequential()\ndisc.add(Dense(1, input_shape=(784,)))\n"),
    "P021": Example(
        "PyTorch model code is read without running it: cnncalc follows literals, arithmetic, "
        "if, for over lists and ranges, the file's functions and classes, the nn modules and "
        "the usual tensor operations. Anything else is one error where it stands, naming it.",
        _TORCH.format(forward="return F.relu(self.conv(x))"),
        _TORCH.format(forward="while True:\n            x = self.conv(x)\n        return x")),
    "P022": Example(
        "Every loop, call depth, list and number that model code asks cnncalc to follow is "
        "bounded (a loop runs at most 10,000 times), so that no file makes it hang.",
        _TORCH.format(forward="for _ in range(3):\n            x = F.relu(x)\n"
                      "        return self.conv(x)"),
        _TORCH.format(forward="for _ in range(10 ** 9):\n            x = F.relu(x)\n"
                      "        return self.conv(x)")),
    "P023": Example(
        "PyTorch counts the parameters of every module __init__ builds; the network counts "
        "those forward() uses. A module with parameters that forward() never calls would make "
        "the two totals differ, so it is an error.",
        _TORCH.format(forward="return self.conv(x)"),
        _TORCH.format(forward="return F.relu(x)")),
    "P024": Example(
        "A module called twice shares its parameters in PyTorch, where the network's layers "
        "count them at each call; one kept in a plain list is not counted by PyTorch at all. "
        "Either way the totals would not be PyTorch's, so it is an error.",
        _TORCH.format(forward="return self.conv(x)"),
        _TORCH.format(forward="return self.conv(F.pad(self.conv(x)[:, :3], [2, 2, 2, 2]))")),
    "I301": Example(
        "`pad ?` (the lecture's P = ?) is solved as the smallest padding that fits; cnncalc "
        "says what it chose. Information: it fails a check only with --fail-on info.",
        "[32x32x3] INPUT\nCONV1: 16 5x5 filters at stride 1, pad 2\n",
        "[32x32x3] INPUT\nCONV1: 16 5x5 filters at stride 1, pad ?\n"),
    "S601": Example(
        "A suppression that silences nothing would hide the next real problem on its line: "
        "remove it once the problem is fixed. Unknown codes are reported too.",
        "[32x32x3] INPUT\nCONV1: 16 5x5 filters  # cnncalc: ignore[W501]\n"
        "CONV2: 16 5x5 filters\n",
        "[32x32x3] INPUT\nCONV1: 16 5x5 filters, pad 2  # cnncalc: ignore[W501]\n"
        "CONV2: 16 5x5 filters, pad 2\n"),
    "S602": Example(
        "Codes are required, so that a suppression says what it silences and goes stale "
        "visibly (S601); a bare one suppresses nothing.",
        "[32x32x3] INPUT\nCONV1: 16 3x3 filters, pad 3  # cnncalc: ignore[W503]\n",
        "[32x32x3] INPUT\nCONV1: 16 3x3 filters, pad 3  # cnncalc: ignore\n"),
}
