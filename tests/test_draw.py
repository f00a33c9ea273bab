"""``cnncalc draw`` (issue 14, item 9): an SVG diagram of the network.

- the SVG is well-formed XML, and rsvg-convert renders it without a word on stderr (skipped
  where rsvg-convert is not installed);
- golden files for AlexNet and a small residual network, compared byte for byte; regenerate
  them after an intended change with ``CNNCALC_REGEN_GOLDEN=1 python -m pytest
  tests/test_draw.py`` (or ``--regen-golden``) and look at the pictures;
- every name is escaped (``<``, ``&``, quotes, control characters);
- layers in error are red and say ``error``, later ones are not computed, and no volume is
  drawn for either; an assumed wiring (P014) is marked;
- ``--depth`` folds blocks into one box each, and branches are drawn as a graph;
- a picture has bounds: past them, a clear refusal that names the ``--depth`` that fits.
"""

from __future__ import annotations

import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from helpers import GOLDEN, ROOT, analyze_spec, analyze_text

from cnncalc.cli import cli
from cnncalc.render import svg
from cnncalc.render.layout import bands, columns, cuts, lanes, layout
from cnncalc.render.rows import rows
from cnncalc.render.svg import MAX_BOXES, name_lines, predecessors, to_svg

NS = "{http://www.w3.org/2000/svg}"
FIXTURES = Path(__file__).parent / "fixtures"
DRAW_GOLDEN = GOLDEN / "draw"
RSVG = shutil.which("rsvg-convert")


def _tree(text: str) -> ET.Element:
    return ET.fromstring(text.encode("utf-8"))


def _texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{NS}text")]


def _nodes(root: ET.Element) -> list[ET.Element]:
    """The group of each node (the edges' group aside)."""
    return [g for g in root.iter(f"{NS}g") if g.get("class") != "edges"]


def _draw(runner, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(cli, ["draw", *args])


# --- well-formed, rendered ------------------------------------------------------------------

SHIPPED = [("alexnet", None), ("resnet50", None), ("resnet50", 1), ("resnet50", 2),
           ("googlenet", None), ("densenet121", None), ("densenet121", 2), ("unet", None),
           ("mobilenet_v2", None), ("lenet5", None), ("vgg16", None)]


@pytest.mark.parametrize(("spec", "depth"), SHIPPED)
def test_the_svg_of_each_shipped_spec_parses_with_a_node_per_row(spec: str,
                                                                 depth: int | None) -> None:
    a = analyze_spec(f"{spec}.txt")
    root = _tree(to_svg(a, depth))
    assert root.tag == f"{NS}svg"
    assert len(_nodes(root)) == len(rows(a, depth)) + 1  # and the input
    desc = root.find(f"{NS}desc")
    assert desc is not None and "8 + 9*log2(n)" in (desc.text or "")
    assert float(root.get("width", "0")) < 32767 and float(root.get("height", "0")) < 32767


@pytest.mark.skipif(RSVG is None, reason="rsvg-convert is not installed "
                    "(apt-get install librsvg2-bin)")
@pytest.mark.parametrize(("spec", "depth"), [("alexnet", None), ("resnet50", None),
                                             ("resnet50", 1), ("googlenet", None),
                                             ("densenet121", None), ("unet", None),
                                             ("alexnet224", None)])
def test_rsvg_convert_renders_it_without_a_complaint(tmp_path: Path, spec: str,
                                                     depth: int | None) -> None:
    source = tmp_path / f"{spec}.svg"
    source.write_text(to_svg(analyze_spec(f"{spec}.txt"), depth), encoding="utf-8")
    png = tmp_path / f"{spec}.png"
    done = subprocess.run([str(RSVG), "-o", str(png), str(source)], capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# --- golden files ---------------------------------------------------------------------------

GOLDENS = [("alexnet.svg", "specs/alexnet.txt", []),
           ("small_residual.svg", "tests/fixtures/draw/small_residual.txt", [])]


@pytest.mark.parametrize(("name", "spec", "args"), GOLDENS)
def test_golden_svg(runner, regen_golden: bool, tmp_path: Path, name: str, spec: str,
                    args: list[str]) -> None:
    out = tmp_path / name
    result = _draw(runner, spec, "-o", str(out), *args)
    assert result.exit_code == 0, result.output
    assert result.stdout == "" and result.stderr == ""
    actual = out.read_bytes()
    path = DRAW_GOLDEN / name
    if regen_golden:
        DRAW_GOLDEN.mkdir(parents=True, exist_ok=True)
        path.write_bytes(actual)
    assert path.exists(), f"{path} is missing: run with CNNCALC_REGEN_GOLDEN=1 to create it"
    assert actual == path.read_bytes(), (
        f"{name} differs from the golden file; if the change is intended, rerun with "
        "CNNCALC_REGEN_GOLDEN=1, look at the picture (rsvg-convert) and review the diff")


def test_the_golden_alexnet_says_what_the_slide_says() -> None:
    """Guards against blessing a bad run: every layer of the slide with its volume."""
    root = _tree((DRAW_GOLDEN / "alexnet.svg").read_text(encoding="utf-8"))
    texts = _texts(root)
    for text in ("CONV1", "11x11 s4 p0", "55x55x96", "34.9K params", "MAX POOL1", "27x27x96",
                 "NORM1", "CONV2", "27x27x256", "615K params", "13x13x384", "6x6x256", "FC6",
                 "4096", "37.8M params", "FC8", "1000", "227x227x3"):
        assert text in texts, text
    assert any("62,378,344 params, 1,135,256,096 MACs" in t for t in texts)
    assert len(_nodes(root)) == 14
    assert [p.get("class") for p in root.iter(f"{NS}path") if p.get("class") == "e"] == \
        ["e"] * 13  # a chain: one edge from each node to the next


def test_the_golden_residual_has_its_shortcuts() -> None:
    text = (DRAW_GOLDEN / "small_residual.svg").read_text(encoding="utf-8")
    assert "layer2.shortcut" in text and "layer1.add" in text
    assert text.count('class="merge"') == 2


# --- the graph ------------------------------------------------------------------------------

def test_inception_branches_stack_and_join_on_the_main_lane() -> None:
    a = analyze_spec("googlenet.txt")
    shown = rows(a)
    preds = predecessors(a, shown)
    col = columns(preds)
    lane, _ = lanes(preds, col)
    index = {row.name: k for k, row in enumerate(shown, start=1)}
    firsts = ["inception3a.branch1.conv", "inception3a.branch2.0.conv",
              "inception3a.branch3.0.conv", "inception3a.branch4.0"]
    assert len({lane[index[n]] for n in firsts}) == 4
    assert lane[index["inception3a.concat"]] == lane[index["maxpool2"]] == 0
    assert preds[index["inception3a.concat"]] == tuple(
        index[n] for n in ("inception3a.branch1.relu", "inception3a.branch2.1.relu",
                           "inception3a.branch3.1.relu", "inception3a.branch4.1.relu"))


def test_a_residual_block_has_an_arc_over_it_and_its_projection_under_it() -> None:
    a = analyze_text((FIXTURES / "draw" / "small_residual.txt").read_text(encoding="utf-8"))
    shown = rows(a)
    index = {row.name: k for k, row in enumerate(shown, start=1)}
    lay = layout([svg.Size(50, 40, 30)] * (len(shown) + 1), predecessors(a, shown))
    route = {(e.source, e.target): e.route for e in lay.edges}
    assert route[(index["relu"], index["layer1.add"])] == "arc"
    assert route[(index["layer1.bn2"], index["layer1.add"])] == "straight"
    assert lay.lane[index["layer2.shortcut"]] == 1
    assert lay.lane[index["layer2.add"]] == 0
    assert route[(index["layer2.shortcut"], index["layer2.add"])] == "late"


def test_nested_arcs_take_different_levels() -> None:
    """U-Net's skips nest: each gets a level of its own, the widest the highest."""
    a = analyze_spec("unet.txt")
    shown = rows(a, 1)
    lay = layout([svg.Size(50, 40, 30)] * (len(shown) + 1), predecessors(a, shown))
    arcs = [e for e in lay.edges if e.route == "arc"]
    spans = sorted((lay.column[e.target] - lay.column[e.source], e.level) for e in arcs)
    levels = [level for _, level in spans]
    assert levels == sorted(levels)


def test_a_wide_picture_wraps_at_chain_points_only() -> None:
    a = analyze_spec("resnet50.txt")
    shown = rows(a)
    preds = predecessors(a, shown)
    col = columns(preds)
    may_cut = cuts(preds, col)
    band = bands([100.0] * (max(col) + 1), may_cut, 2800.0)
    assert band[-1] >= 4  # several bands
    for c in range(len(band) - 1):
        if band[c] != band[c + 1]:
            assert may_cut[c] is not None
    # an edge crosses a wrap only from the node just before it
    for v, ps in enumerate(preds):
        for p in ps:
            if band[col[p]] != band[col[v]]:
                assert band[col[p]] + 1 == band[col[v]] and may_cut[col[p]] == p


def test_cuts_and_bands_by_hand() -> None:
    # 0 -> 1 -> 2 -> 3, and 1 -> 3 skips over 2: no wrap after 2
    preds: list[tuple[int, ...]] = [(), (0,), (1,), (2, 1)]
    col = columns(preds)
    assert col == [0, 1, 2, 3]
    assert cuts(preds, col) == [0, 1, None, -1]
    assert bands([100.0] * 4, cuts(preds, col), 150.0) == [0, 1, 2, 2]


# --- folding --------------------------------------------------------------------------------

@pytest.mark.parametrize(("depth", "boxes"), [(1, 11), (2, 23)])
def test_depth_folds_resnet50(runner, depth: int, boxes: int) -> None:
    result = _draw(runner, "specs/resnet50.txt", "--depth", str(depth))
    assert result.exit_code == 0, result.output
    root = _tree(result.stdout)
    assert len(_nodes(root)) == boxes
    texts = _texts(root)
    assert "layer3" in texts if depth == 1 else "layer3.5" in texts
    assert ("62 layers" if depth == 1 else "10 layers") in texts
    assert root.find(f"{NS}g[@class='block']") is not None


# --- escaping -------------------------------------------------------------------------------

def test_names_are_escaped(runner, tmp_path: Path) -> None:
    spec = tmp_path / "names.txt"
    spec.write_text('[8x8x3] INPUT\nCONV "a<b&c\\x22d\'e>": 4 3x3 filters at stride 1, pad 1\n'
                    'CONV "bell\x07]]>": 4 1x1 filters\n', encoding="utf-8")
    result = _draw(runner, str(spec))
    assert result.exit_code == 0, result.output
    assert "a&lt;b&amp;c&quot;d&#39;e&gt;" in result.stdout
    assert "\x07" not in result.stdout and "]]>" not in result.stdout
    texts = _texts(_tree(result.stdout))
    assert "a<b&c\"d'e>" in texts
    assert "bell\\x07]]>" in texts


@pytest.mark.parametrize("name", ["x" * 30, "layer1.0.downsample.0", "a." * 40 + "z", ""])
def test_a_name_wraps_and_is_never_cut(name: str) -> None:
    lines = name_lines(name)
    assert "".join(lines) == name
    assert all(len(line) <= 24 for line in lines)


def test_a_name_past_the_limit_says_how_much_it_leaves_out() -> None:
    lines = name_lines("n" * 10_000)
    assert lines[-1] == "... (+9,600 characters)"
    assert sum(len(line) for line in lines[:-1]) == 400


# --- errors and marks -----------------------------------------------------------------------

def test_layers_in_error_are_red_and_nothing_after_them_has_a_volume(runner) -> None:
    result = _draw(runner, "specs/alexnet224.txt")
    assert result.exit_code == 1
    assert "[G101 filter-does-not-fit]" in result.stderr
    root = _tree(result.stdout)
    groups = _nodes(root)
    assert [g.get("class") for g in groups[:3]] == ["input", "conv error", "pool nc"]
    assert sum(1 for g in groups if (g.get("class") or "").endswith(" nc")) == 12
    texts = _texts(root)
    assert texts.count("not computed") == 12 and "error" in texts
    for volume in ("55x55x96", "54x54x96", "6x6x256"):
        assert volume not in texts  # never invented
    assert any(t.startswith("totals withheld: layer 1 (CONV1") for t in texts)


def test_an_assumed_wiring_is_marked(runner, tmp_path: Path) -> None:
    """A printed module whose forward() is not known (P014): its figures are marked."""
    spec = tmp_path / "net.txt"
    spec.write_text("# cnncalc: input 8x8x3\nNet(\n  (conv): Conv2d(3, 8, kernel_size=(3, 3))\n"
                    "  (relu): ReLU()\n)\n", encoding="utf-8")
    result = _draw(runner, str(spec))
    assert result.exit_code == 0
    assert "P014" in result.stderr
    root = _tree(result.stdout)
    assert [g.get("class") for g in _nodes(root)] == ["input", "conv assumed", "op assumed"]
    texts = _texts(root)
    assert texts.count("6x6x8~") == 2 and "224 params" in texts  # params are exact
    assert any(t.endswith("7,776~ MACs (FLOPs = 2 x MACs)") for t in texts)
    assert any("assumed wiring" in t and "P014" in t for t in texts)


def test_an_unreadable_spec_still_gives_a_picture_and_exit_1(runner, tmp_path: Path) -> None:
    spec = tmp_path / "junk.txt"
    spec.write_text("hello world\n", encoding="utf-8")
    result = _draw(runner, str(spec))
    assert result.exit_code == 1
    assert "P002" in result.stderr
    _tree(result.stdout)


# --- options, output, bounds ----------------------------------------------------------------

def test_output_file_and_standard_output_agree(runner, tmp_path: Path) -> None:
    out = tmp_path / "a.svg"
    to_file = _draw(runner, "specs/lenet5.txt", "-o", str(out))
    to_stdout = _draw(runner, "specs/lenet5.txt")
    assert to_file.exit_code == to_stdout.exit_code == 0
    assert to_file.stdout == ""
    assert out.read_text(encoding="utf-8") == to_stdout.stdout


def test_an_output_that_cannot_be_written_is_exit_2(runner, tmp_path: Path) -> None:
    result = _draw(runner, "specs/lenet5.txt", "-o", str(tmp_path / "no" / "such" / "x.svg"))
    assert result.exit_code == 2
    assert "cnncalc: error:" in result.stderr


def test_the_spec_options_apply(runner, tmp_path: Path) -> None:
    spec = tmp_path / "a.txt"
    spec.write_text("[224x224x3] INPUT\nCONV1: 96 11x11 filters at stride 4, pad 0\n",
                    encoding="utf-8")
    strict = _draw(runner, str(spec))
    assert strict.exit_code == 1 and "G101" in strict.stderr
    floor = _draw(runner, str(spec), "--rounding", "floor")
    assert floor.exit_code == 0 and "G107" in floor.stderr
    assert "54x54x96*" in _texts(_tree(floor.stdout))
    wider = _draw(runner, str(spec), "--input", "227x227x3", "--notation", "lecture",
                  "--max-layers", "100")
    assert wider.exit_code == 0
    assert "55x55x96" in _texts(_tree(wider.stdout))


def test_too_many_boxes_is_refused_with_the_depth_that_fits(runner, tmp_path: Path,
                                                            monkeypatch) -> None:
    monkeypatch.setattr(svg, "MAX_BOXES", 40)
    lines = ["[8x8x3] INPUT"] + [f"RELU \"stage{i // 10}.relu{i}\"" for i in range(60)]
    spec = tmp_path / "long.txt"
    spec.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = _draw(runner, str(spec))
    assert result.exit_code == 2
    assert "61 boxes to draw, more than the 40" in result.stderr
    assert "--depth 1 draws it folded" in result.stderr
    assert result.stdout == ""
    folded = _draw(runner, str(spec), "--depth", "1")
    assert folded.exit_code == 0
    assert len(_nodes(_tree(folded.stdout))) == 7


def test_a_chain_that_does_not_fold_is_refused_plainly(runner, tmp_path: Path,
                                                       monkeypatch) -> None:
    monkeypatch.setattr(svg, "MAX_BOXES", 40)
    spec = tmp_path / "flat.txt"
    spec.write_text("[8x8x3] INPUT\n" + "RELU\n" * 60, encoding="utf-8")
    result = _draw(runner, str(spec))
    assert result.exit_code == 2
    assert "name its blocks to fold them" in result.stderr


def test_the_bound_keeps_the_svg_small() -> None:
    """MAX_BOXES nodes with the longest labels stay well under 100 MB."""
    lines = ["[8x8x3] INPUT"] + [f'CONV "{"n" * 390}.{i}": 3 1x1 filters'
                                 for i in range(MAX_BOXES - 1)]
    text = to_svg(analyze_text("\n".join(lines) + "\n"))
    assert len(text) < 10 * 2**20
    _tree(text)


def test_the_same_spec_gives_the_same_bytes() -> None:
    a = analyze_spec("googlenet.txt")
    assert to_svg(a) == to_svg(analyze_spec("googlenet.txt"))


@pytest.mark.parametrize("spec", ["alexnet", "resnet50"])
def test_the_docs_pictures_are_the_drawn_ones(spec: str) -> None:
    """docs/alexnet.svg (shown in the README) and docs/resnet50.svg are what `cnncalc draw
    specs/X.txt` draws: regenerate them with `cnncalc draw specs/X.txt -o docs/X.svg`."""
    assert (ROOT / "docs" / f"{spec}.svg").read_text(encoding="utf-8") == \
        to_svg(analyze_spec(f"{spec}.txt"))


def test_an_unresolved_name_and_an_output_before_the_end_are_said(runner, tmp_path: Path) -> None:
    spec = tmp_path / "u.txt"
    spec.write_text("[8x8x3] INPUT\nconv1: 4 3x3 filters at stride 1, pad 1\n"
                    "conv2: 4 3x3 filters at stride 1, pad 1\nadd from conv2, nosuch\n"
                    'FC "head": 10 neurons\nOUTPUT from conv2\n', encoding="utf-8")
    result = _draw(runner, str(spec))
    assert result.exit_code == 1 and "P016" in result.stderr
    texts = _texts(_tree(result.stdout))
    assert "from ? (a name not found)" in texts
    assert texts.index("(the output)") == texts.index("conv2") + 4  # under conv2's figures


@pytest.mark.parametrize(("name", "lines"), [
    ("features.1.conv.0.0", ["features.1.conv.0.0"]),
    ("layer1.0.downsample.0", ["layer1.0.", "downsample.0"]),
    ("features.denseblock1.0.norm1", ["features.", "denseblock1.0.", "norm1"]),
    ("CONV1", ["CONV1"])])
def test_names_wrap_after_dots(name: str, lines: list[str]) -> None:
    assert name_lines(name) == lines


def test_too_many_edges_is_refused(runner, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(svg, "MAX_EDGES", 10)
    lines = ["[8x8x3] INPUT"] + [f"c{i}: 4 1x1 filters" for i in range(8)]
    lines.append("concat from " + ", ".join(f"c{i}" for i in range(8)))
    spec = tmp_path / "fan.txt"
    spec.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = _draw(runner, str(spec))
    assert result.exit_code == 2
    assert "16 edges to draw, more than the 10" in result.stderr
