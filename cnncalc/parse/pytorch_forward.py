"""The ``forward()`` of torchvision's classic models and their blocks, written as data.

``print(model)`` lists a module's children in the order its ``__init__`` made them, not the
order, or the branches, its ``forward()`` calls them in. For the classes below cnncalc knows
the forward (read from torchvision 0.29's sources), written one a line in a small notation:

- segments separated by ``|`` run in order; each starts from a value: ``x`` (the block's
  input), a name saved before, or a merge ``ADD(a, b)``, ``CAT(a, b, ...)``, ``MUL(a, b)``;
- then steps, each on the value so far: a child by its printed name (``conv1``; ``name?`` when
  the child may be absent or an empty ``Sequential()``: then it is the identity), or an
  operation that only ``forward()`` shows, in capitals: ``RELU`` (``F.relu``), ``FLATTEN``
  (``torch.flatten(x, 1)``), ``MEAN`` (``x.mean([2, 3])``), ``POOL(n)``
  (``F.adaptive_avg_pool2d(x, n)``), ``AVGPOOL(k,s,p)`` / ``MAXPOOL(k,s)`` (``F.avg_pool2d``,
  ``F.max_pool2d``), ``SHUFFLE(g)`` (``channel_shuffle``), ``CHUNK(i,child)`` (part ``i`` of
  ``x.chunk(2, dim=1)``, whose width is the input channels of ``child``'s first convolution:
  an input of any other depth than twice that is an error),
  and ``DENSE`` (DenseNet's block: every child reads the concatenation of the block's input
  and all earlier children's outputs; the block gives the concatenation of all);
- ``>name`` saves the value so far; right after an operation it also names that layer;
- ``~name`` names a child ``forward()`` calls only in training (torchvision's auxiliary
  classifiers, ``if self.training``): it may be printed, and the network, read as in eval
  mode, never calls it (:mod:`cnncalc.parse.pytorch` says so, P025);
- ``[cond]`` / ``[!cond]`` before a segment runs it only when ``cond`` holds / does not: a
  child's name holds when that child is printed and not empty; ``residual`` holds when the
  block's convolutions all have stride 1 and the first one's input channels are the last
  one's output channels (torchvision's ``use_res_connect``/``apply_residual``, ``stride == 1
  and in == out``, decided from the printed arguments, never assumed).

A layer an operation makes is named after the function ``forward()`` calls (``layer1.0.add``,
``Mixed_5b.avg_pool2d``), or by the ``>name`` after it. The block's output is the value its
last segment ends with. A class matches when its printed children are the ones its forward
uses (those without ``?`` or a guard of their own all present, no other); otherwise it is read
as an unknown container (P014). ``nn.Sequential`` and its subclasses (Conv2dNormActivation) call
their children in order: :mod:`cnncalc.parse.pytorch` reads them so, and they are not here.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

FORWARDS: dict[str, tuple[str, ...]] = {
    # torchvision.models.alexnet and vgg
    "AlexNet": ("x features avgpool FLATTEN classifier",),
    "VGG": ("x features avgpool FLATTEN classifier",),
    # torchvision.models.resnet
    "BasicBlock": ("x conv1 bn1 relu conv2 bn2 >out | x downsample? >identity | "
                   "ADD(out, identity) relu",),
    "Bottleneck": ("x conv1 bn1 relu conv2 bn2 relu conv3 bn3 >out | x downsample? >identity | "
                   "ADD(out, identity) relu",),
    "ResNet": ("x conv1 bn1 relu maxpool layer1 layer2 layer3 layer4 avgpool FLATTEN fc",),
    # torchvision.models.googlenet and inception (each has a BasicConv2d: conv, bn, F.relu)
    "BasicConv2d": ("x conv bn RELU",),
    "Inception": ("x branch1 >branch1 | x branch2 >branch2 | x branch3 >branch3 | "
                  "x branch4 >branch4 | CAT(branch1, branch2, branch3, branch4)",),
    "GoogLeNet": ("x conv1 maxpool1 conv2 conv3 maxpool2 inception3a inception3b maxpool3 "
                  "inception4a inception4b inception4c inception4d inception4e maxpool4 "
                  "inception5a inception5b avgpool FLATTEN dropout fc ~aux1 ~aux2",),
    # googlenet's and inception's auxiliary classifiers (told apart by their children)
    "InceptionAux": ("x POOL(4) conv FLATTEN fc1 RELU dropout fc2",
                     "x AVGPOOL(5,3,0) conv0 conv1 POOL(1) FLATTEN fc"),
    "InceptionA": ("x branch1x1 >b1 | x branch5x5_1 branch5x5_2 >b5 | "
                   "x branch3x3dbl_1 branch3x3dbl_2 branch3x3dbl_3 >b3 | "
                   "x AVGPOOL(3,1,1) branch_pool >bp | CAT(b1, b5, b3, bp)",),
    "InceptionB": ("x branch3x3 >b3 | x branch3x3dbl_1 branch3x3dbl_2 branch3x3dbl_3 >bd | "
                   "x MAXPOOL(3,2) >branch_pool | CAT(b3, bd, branch_pool)",),
    "InceptionC": ("x branch1x1 >b1 | x branch7x7_1 branch7x7_2 branch7x7_3 >b7 | "
                   "x branch7x7dbl_1 branch7x7dbl_2 branch7x7dbl_3 branch7x7dbl_4 "
                   "branch7x7dbl_5 >bd | x AVGPOOL(3,1,1) branch_pool >bp | "
                   "CAT(b1, b7, bd, bp)",),
    "InceptionD": ("x branch3x3_1 branch3x3_2 >b3 | "
                   "x branch7x7x3_1 branch7x7x3_2 branch7x7x3_3 branch7x7x3_4 >b7 | "
                   "x MAXPOOL(3,2) >branch_pool | CAT(b3, b7, branch_pool)",),
    "InceptionE": ("x branch1x1 >b1 | x branch3x3_1 >t | t branch3x3_2a >a | "
                   "t branch3x3_2b >b | CAT(a, b) >branch3x3 | "
                   "x branch3x3dbl_1 branch3x3dbl_2 >u | u branch3x3dbl_3a >c | "
                   "u branch3x3dbl_3b >d | CAT(c, d) >branch3x3dbl | "
                   "x AVGPOOL(3,1,1) branch_pool >bp | CAT(b1, branch3x3, branch3x3dbl, bp)",),
    "Inception3": ("x Conv2d_1a_3x3 Conv2d_2a_3x3 Conv2d_2b_3x3 maxpool1 Conv2d_3b_1x1 "
                   "Conv2d_4a_3x3 maxpool2 Mixed_5b Mixed_5c Mixed_5d Mixed_6a Mixed_6b "
                   "Mixed_6c Mixed_6d Mixed_6e Mixed_7a Mixed_7b Mixed_7c avgpool dropout "
                   "FLATTEN fc ~AuxLogits",),
    # torchvision.models.densenet (_Transition is an nn.Sequential: its children in order)
    "_DenseLayer": ("x norm1 relu1 conv1 norm2 relu2 conv2",),
    "_DenseBlock": ("x DENSE",),
    "_Transition": ("x norm relu conv pool",),
    "DenseNet": ("x features RELU POOL(1) FLATTEN classifier",),
    # torchvision.models.squeezenet
    "Fire": ("x squeeze squeeze_activation >s | s expand1x1 expand1x1_activation >e1 | "
             "s expand3x3 expand3x3_activation >e3 | CAT(e1, e3)",),
    "SqueezeNet": ("x features classifier FLATTEN",),
    # MobileNetV2 (conv), MobileNetV3 (block), ShuffleNetV2 (branch1, branch2)
    "InvertedResidual": (
        "x conv >out | [residual] ADD(x, out)",
        "x block >result | [residual] ADD(result, x)",
        "[branch1] x branch1 >x1 | [branch1] x >x2 | [!branch1] x CHUNK(0,branch2) >x1 | "
        "[!branch1] x CHUNK(1,branch2) >x2 | x2 branch2 >b | CAT(x1, b) >out SHUFFLE(2)"),
    "SqueezeExcitation": ("x avgpool fc1 activation fc2 scale_activation >scale | "
                          "MUL(scale, x)",),
    "MobileNetV2": ("x features POOL(1) FLATTEN classifier",),
    "MobileNetV3": ("x features avgpool FLATTEN classifier",),
    "ShuffleNetV2": ("x conv1 maxpool stage2 stage3 stage4 conv5 MEAN fc",),
    # torchvision.models.efficientnet (StochasticDepth is the identity at inference)
    "MBConv": ("x block >result | [residual] result stochastic_depth >result | "
               "[residual] ADD(result, x)",),
    "FusedMBConv": ("x block >result | [residual] result stochastic_depth >result | "
                    "[residual] ADD(result, x)",),
    "EfficientNet": ("x features avgpool FLATTEN classifier",),
    # torchvision.models.mnasnet
    "_InvertedResidual": ("x layers >out | [residual] ADD(out, x)",),
    "MNASNet": ("x layers MEAN classifier",),
}
"""Each class's forward(), one entry per variant (told apart by the children printed)."""

MERGES = {"ADD": "add", "CAT": "concat", "MUL": "multiply"}
# operation -> (the number of arguments, the name of the layer it makes)
OPS: dict[str, tuple[int, str]] = {
    "RELU": (0, "relu"), "FLATTEN": (0, "flatten"), "MEAN": (0, "mean"),
    "POOL": (1, "adaptive_avg_pool2d"), "AVGPOOL": (3, "avg_pool2d"),
    "MAXPOOL": (2, "max_pool2d"), "SHUFFLE": (1, "channel_shuffle"), "CHUNK": (2, "chunk"),
    "DENSE": (0, "cat"), "ADD": (-1, "add"), "CAT": (-1, "cat"), "MUL": (-1, "mul"),
}
RESIDUAL = "residual"

_TOKEN = re.compile(r"\s*(?:(\|)|\[(!?)(\w+)\]|>(\w+)|~(\w+)|([A-Z]+)(?:\(([^)]*)\))?(?!\w)|"
                    r"(\w+)(\?)?)")


@dataclass(frozen=True)
class Op:
    """An operation: its word, arguments (numbers, or names for a merge or CHUNK's child) and
    the local name of the layer it makes."""

    word: str
    args: tuple[str, ...]
    name: str


@dataclass(frozen=True)
class Step:
    """A child called (``child``, and whether it may be absent), an operation, or a save."""

    child: str | None = None
    optional: bool = False
    op: Op | None = None
    save: str | None = None


@dataclass(frozen=True)
class Segment:
    guard: tuple[bool, str] | None  # (holds, condition): [cond] is (True, cond)
    source: str | Op  # "x", a saved name, or a merge
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class Program:
    """One variant of a class's forward(): its segments; the children it may call; those
    that must be printed; those only a ``residual`` guard calls (they must hold no params);
    the local names of the layers its operations make; whether it calls every child
    (``DENSE``); the children it calls only in training (``~name``), which may be printed."""

    cls: str
    segments: tuple[Segment, ...]
    labels: frozenset[str]
    required: frozenset[str]
    guarded: frozenset[str]
    op_names: tuple[str, ...]
    variadic: bool
    training: frozenset[str] = frozenset()


def _op(word: str, args: str | None, text: str) -> Op:
    if word not in OPS:
        raise ValueError(f"{text}: unknown operation {word}")
    count, name = OPS[word]
    parts = tuple(a.strip() for a in args.split(",")) if args else ()
    if (count >= 0 and len(parts) != count) or (count < 0 and len(parts) < 2):
        raise ValueError(f"{text}: {word} takes {count} arguments")
    return Op(word, parts, name)


def compile_forward(cls: str, text: str) -> Program:
    """The program of one variant; raises ValueError when the text is not well formed (the
    table above is checked by the tests)."""
    segments: list[Segment] = []
    guard: tuple[bool, str] | None = None
    source: str | Op | None = None
    steps: list[Step] = []
    saved = {"x"}
    uses: dict[str, list[tuple[bool, str] | None]] = {}  # child -> the guards of its calls
    optional: set[str] = set()
    chunked: set[str] = set()
    op_names: list[str] = []
    training: set[str] = set()

    def end() -> None:
        nonlocal guard, source, steps
        if source is None:
            raise ValueError(f"{cls}: a segment with no value to start from")
        segments.append(Segment(guard, source, tuple(steps)))
        guard, source, steps = None, None, []

    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise ValueError(f"{cls}: cannot read {text[pos:]!r}")
        pos = m.end()
        bar, neg, cond, save, train, word, args, child, maybe = m.groups()
        if bar:
            end()
        elif train:
            training.add(train)
        elif cond:
            if source is not None or guard is not None:
                raise ValueError(f"{cls}: a guard must start its segment")
            guard = (not neg, cond)
        elif save:
            if source is None:
                raise ValueError(f"{cls}: >{save} saves nothing")
            last = steps[-1].op if steps else source if isinstance(source, Op) else None
            if last is not None:  # it names the layer of the operation before it
                renamed = Op(last.word, last.args, save)
                if steps:
                    steps[-1] = Step(op=renamed)
                else:
                    source = renamed
                op_names[-1] = save
            steps.append(Step(save=save))
            saved.add(save)
        elif word:
            op = _op(word, args, cls)
            if word in MERGES:
                if source is not None:
                    raise ValueError(f"{cls}: a merge must start its segment")
                missing = [a for a in op.args if a not in saved]
                if missing:
                    raise ValueError(f"{cls}: {word} of {missing} before they are saved")
                source = op
            elif source is None:
                raise ValueError(f"{cls}: {word} with no value to start from")
            else:
                steps.append(Step(op=op))
                if word == "CHUNK":
                    chunked.add(op.args[1])
            op_names.append(op.name)
        elif source is None:
            if child not in saved:
                raise ValueError(f"{cls}: a segment starts from {child}, which is not saved")
            source = child
        else:
            assert child is not None
            steps.append(Step(child=child, optional=bool(maybe)))
            uses.setdefault(child, []).append(guard)
            if maybe:
                optional.add(child)
    end()
    labels = frozenset(uses) | frozenset(chunked)
    own = {c: all(g is not None and g[1] == c for g in gs) for c, gs in uses.items()}
    required = frozenset(c for c in labels if c not in optional and not own.get(c, False))
    guarded = frozenset(c for c, gs in uses.items()
                        if all(g is not None and g[1] == RESIDUAL for g in gs))
    if len(set(op_names)) != len(op_names) or set(op_names) & (labels | training):
        raise ValueError(f"{cls}: the layers its operations make need names of their own")
    if training & labels:
        raise ValueError(f"{cls}: {sorted(training & labels)} called, and only in training")
    return Program(cls, tuple(segments), labels, required, guarded, tuple(op_names),
                   any(s.op is not None and s.op.word == "DENSE"
                       for seg in segments for s in seg.steps), frozenset(training))


@functools.cache
def programs(cls: str) -> tuple[Program, ...]:
    """The variants of ``cls``'s forward(), compiled when first asked for."""
    return tuple(compile_forward(cls, text) for text in FORWARDS.get(cls, ()))
