"""The seeds every engine starts from (``specs/*.txt`` and a snippet of each notation) and the
mutate engine's edits: lines deleted, duplicated, swapped or spliced from another seed; bits
flipped; tokens and raw bytes inserted; numbers made 0, -1, large or 300 to 4,300 digits
long; runs of blank, whitespace or comment lines inserted; hostile names inserted; a PyTorch
label made a huge repeat."""

from __future__ import annotations

import random
import re
from pathlib import Path

from fuzz.generators import MAX_INPUT, big_number, filler, hostile_name

ROOT = Path(__file__).resolve().parent.parent

SNIPPETS = (
    b"[32x32x3] INPUT\nCONV1: 8 3x3 filters at stride 1, pad 1\nRELU1\nMAX POOL1: 2x2 filters "
    b"at stride 2\nFC2: 10 neurons\n",
    b"[227x227x3] INPUT\n[55x55x96] CONV1: 96 11x11 filters at stride 4, pad ?\n",
    b"[28x28x3] INPUT\nDWCONV1: 3x3 filters at stride 2, pad same, multiplier 2, no bias\n"
    b"DECONV2: 4 4x4 filters at stride 2, pad 1, output padding 1\nBATCHNORM\n"
    b"GLOBAL AVG POOL keepdims\nADAPTIVE AVG POOL 2x2\nZEROPAD top 1, bottom 0, left 2, right 1\n"
    b"DROPOUT 0.5\nFLATTEN\nFC: 10 neurons, no bias\nSOFTMAX\nROUNDING: floor\n",
    b"from keras import layers\nmodel = Sequential()\nmodel.add(Conv2D(8, (3, 3), strides=2, "
    b"padding='same', input_shape=(32, 32, 3)))\nmodel.add(MaxPooling2D())\n"
    b"model.add(SeparableConv2D(16, 3, depth_multiplier=2))\nmodel.add(Flatten())\n"
    b"model.add(Dense(num_classes, activation='softmax'))\n",
    b"model = keras.Sequential([\n    keras.Input(shape=(16, 16, 2)),\n    layers.Conv2DTranspose("
    b"4, 3, strides=2, output_padding=1),\n    layers.ZeroPadding2D(((1, 0), (2, 1))),\n"
    b"    layers.GlobalAveragePooling2D(keepdims=True),\n])\n",
    b"# cnncalc: input 32x32x3\nNet(\n  (conv): Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1), "
    b"padding=(1, 1))\n  (pool): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, "
    b"ceil_mode=True)\n  (blocks): ModuleList(\n    (0-1): 2 x Sequential(\n      (0): "
    b"BatchNorm2d(8, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)\n"
    b"      (1): ReLU(inplace=True)\n    )\n  )\n  (avg): AdaptiveAvgPool2d(output_size=(2, 2))\n"
    b"  (fc): Linear(in_features=32, out_features=10, bias=True)\n)\n",
    b"# cnncalc: input 64x64x3\nself.conv1 = nn.Conv2d(3, 16, 3, padding='same')\n"
    b"self.up = nn.ConvTranspose2d(16, 8, 2, stride=2)\nnn.ZeroPad2d((1, 0, 2, 1))\n"
    b"nn.Flatten()\nnn.Linear(8 * 130 * 131, 10)\n",
    b"INPUT: [32x32x3]  memory: 32*32*3=3K  weights: 0\nCONV3-8: [32x32x8]  weights: "
    b"(3*3*3)*8 = 216\nPOOL2: [16x16x8]\nFC: [1x1x10]  weights: 16*16*8*10 = 20,480\n",
    b"input (32 x 32 RGB image)\nconv3-8\nconv1-4\nLRN\nmaxpool\nFC-10\nsoft-max\n",
)

TOKENS = (
    "0", "-1", "1", "2", "3", "7", "10**30", "1000000000000000000000000000000", "99999999999",
    "0.5", "1e9", "-0", "3x3", "0x0", "0x0x0", "-5x5x3", "227x227", "11x11x3x3", "x", "[", "]",
    "(", ")", "[]", "()", "[1x1x1]", ":", ",", ";", "=", "?", "*", "**", "//", "#", "'", '"',
    '"""', "\\", "\t", "\r", "\r\n", "\n", " ", "\ufeff", "\u00d7", "\u00e9", "\u2028", "\x00",
    "\x0c", "INPUT", "CONV", "conv", "DECONV", "DWCONV", "MAX POOL", "AVG POOL", "POOL",
    "GLOBAL AVG POOL", "ADAPTIVE MAX POOL", "NORM", "BATCHNORM", "FC", "ZEROPAD", "DROPOUT",
    "FLATTEN", "RELU", "SOFTMAX", "ROUNDING", "ceil", "floor", "strict", "same", "valid",
    "stride", "pad", "dilation", "groups", "multiplier", "no bias", "in", "output padding",
    "keepdims", "filters", "neurons", "top", "left", "conv3-64", "FC-4096", "maxpool",
    "memory:", "weights:", "TOTAL params:", "Conv2D(", "Dense(", "model.add(", "Sequential(",
    "Input(shape=(", "input_shape=", "kernel_size=", "strides=", "padding=", "use_bias=",
    "data_format='channels_first'", "name=", "lambda x: x", "f'{x}'", "__import__('os')",
    "os.system('true')", "(x := 3)", "[i for i in range(3)]", "*args", "**kw", "@dec",
    "exec('1')", "nn.Conv2d(", "Conv2d(", "Linear(", "MaxPool2d(", "ModuleList(", "(0): ",
    "(0-99999): 99999 x ", "ceil_mode=True", "padding_mode=reflect", "# cnncalc: input ",
    "# cnncalc: ignore[G101]", "224x224x3", "1x1x1", "0x0x3",
)

_NUMBER = re.compile(rb"\d+")
_LABEL = re.compile(rb"\(([^()\n]*)\): ")


def seeds() -> list[bytes]:
    found = [p.read_bytes() for p in sorted((ROOT / "specs").glob("*.txt"))]
    return found + list(SNIPPETS)


def _splice(data: bytes, start: int, end: int, new: bytes) -> bytes:
    return data[:start] + new + data[end:]


def mutate(rng: random.Random, data: bytes, pool: list[bytes]) -> bytes:
    """One to four edits of ``data`` (see the module docstring)."""
    for _ in range(rng.randint(1, 4)):
        lines = data.split(b"\n")
        op = rng.randrange(15)
        i = rng.randrange(len(lines))
        k = rng.randrange(len(data) + 1)
        if op == 0 and len(lines) > 1:
            del lines[i]
        elif op == 1:
            lines.insert(i, lines[i])
        elif op == 2:
            j = rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == 3 and data:
            k = min(k, len(data) - 1)
            data = _splice(data, k, k + 1, bytes([data[k] ^ (1 << rng.randrange(8))]))
            continue
        elif op in (4, 5, 6):
            data = _splice(data, k, k, rng.choice(TOKENS).encode("utf-8"))
            continue
        elif op in (7, 8, 11):
            numbers = list(_NUMBER.finditer(data))
            if numbers:
                m = rng.choice(numbers)
                if op == 11:
                    new = big_number(rng).encode()
                elif data.startswith(b" x ", m.end()):  # a repeat count: small or huge
                    new = rng.choice((b"0", b"1", b"3", b"1000", b"1000001", b"9" * 40))
                else:
                    new = rng.choice((b"0", b"-1", b"1", b"10**30", b"9" * rng.randint(10, 40),
                                      str(rng.randint(0, 5000)).encode()))
                data = _splice(data, m.start(), m.end(), new)
            continue
        elif op == 9:
            other = rng.choice(pool).split(b"\n")
            j = rng.randrange(len(other))
            lines[i:i] = other[j:j + rng.randint(1, 5)]
        elif op == 10:
            junk = rng.choice((b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xef\xbb\xbf", b"\x00",
                               bytes(rng.randrange(256) for _ in range(rng.randint(1, 4)))))
            data = _splice(data, k, k, junk)
            continue
        elif op == 12:
            lines.insert(i, filler(rng, rng.randint(1_000, 20_000)).encode())
        elif op == 13:
            name = hostile_name(rng).encode("utf-8", "surrogatepass")
            data = _splice(data, k, k, name)
            continue
        else:
            labels = list(_LABEL.finditer(data))
            if labels:
                m = rng.choice(labels)
                c = rng.choice((b"1000", b"1000001", b"10000000", big_number(rng).encode()))
                data = _splice(data, m.start(), m.end(), b"(0-" + c + b"): " + c + b" x ")
            continue
        data = b"\n".join(lines)
    return data[:MAX_INPUT]
