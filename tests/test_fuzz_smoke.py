"""The fuzzer cannot rot: its templates are valid networks, each generator draws what it
promises, the output checks find what they must and nothing else, and each engine runs each
generator end to end for a couple of inputs. Whether those inputs fail is the fuzzer's
business (a failure is a finding, not a broken fuzzer): these tests do not assert it."""

from __future__ import annotations

import math
import random
import re
import sys
from pathlib import Path

import pytest
from helpers import ROOT

from cnncalc.analyze import analyze
from cnncalc.parse import parse_text

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from fuzz import fuzz_parsers, generators, target
from fuzz.generators import GENERATORS, TEMPLATES

NOTATION = {"lecture": "lecture", "canonical": "lecture", "keras": "keras", "keras_list": "keras",
            "pytorch": "pytorch", "pytorch_nn": "pytorch", "vgg": "vgg", "vgg_paper": "vgg"}
SEEDS = range(40)


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_each_template_with_its_defaults_is_a_valid_network(name: str) -> None:
    text = generators.fill(TEMPLATES[name], random.Random(0))
    a = analyze(parse_text(text, "t.txt"))
    assert a.spec.notation == NOTATION[name]
    assert a.totals is not None, [d.message for d in a.diagnostics]


def test_every_notation_has_a_template() -> None:
    assert set(NOTATION) == set(TEMPLATES)


def test_filler_is_a_run_of_at_least_n() -> None:
    for seed in range(100):
        rng = random.Random(seed)
        n = rng.randint(1_000, 5_000)
        assert len(generators.filler(rng, n)) >= n, seed


def test_long_runs_add_thousands_of_filler_characters() -> None:
    template = max(map(len, TEMPLATES.values()))
    sizes = [len(generators.long_runs(random.Random(s))) for s in SEEDS]
    assert min(sizes) >= template + 1_000
    assert max(sizes) >= 100_000
    assert max(sizes) <= generators.MAX_INPUT


def test_huge_numbers_have_300_to_just_over_4300_digits() -> None:
    longest = [max(map(len, re.findall(rb"\d+", generators.huge_numbers(random.Random(s)))))
               for s in SEEDS]
    assert min(longest) >= 300
    assert max(longest) <= 4_400
    assert any(n > 4_300 for n in longest) and any(n <= 4_300 for n in longest)


def test_big_numbers_are_whole_digit_strings() -> None:
    for seed in range(300):
        digits = generators.big_number(random.Random(seed))
        assert digits.isdigit() and 300 <= len(digits) <= 4_400, seed


def test_hostile_names_reach_every_kind_of_name_position() -> None:
    texts = [generators.hostile_names(random.Random(s)).decode("utf-8", "surrogatepass")
             for s in range(200)]
    hostile = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u202e\ud800-\udfff]|::|\\x|\\u|##\[|\[bold")
    assert sum(bool(hostile.search(t)) for t in texts) > 150
    assert any("name='" in t and hostile.search(t) for t in texts)  # Keras
    assert any('"' in t and hostile.search(t) for t in texts if "INPUT" in t or "ROUNDING" in t)
    assert any("Sequential(\n" in t and hostile.search(t) for t in texts)  # PyTorch labels


def test_repeat_totals_are_small_or_beyond_any_cap() -> None:
    for seed in range(1_000):
        rng = random.Random(seed)
        siblings = rng.choice((1, 2, 30))
        total = siblings * math.prod(generators._counts(rng, rng.randint(1, 4), siblings))
        assert total <= generators.SMALL_TOTAL or total >= generators.HUGE_TOTAL, seed


def test_huge_repeats_nest_repeats_or_loop() -> None:
    texts = [generators.huge_repeats(random.Random(s)).decode() for s in SEEDS]
    assert any(re.search(r"\(0-99999\): 100000 x", t) for t in texts)
    assert any(len(re.findall(r"\d+ x (?:Sequential|ModuleList)", t)) >= 2 for t in texts)
    assert any("range(" in t or "] *" in t for t in texts)
    for t in texts:  # what a cap keeps of a huge repeat is cheap to read: no convolutions
        if "Conv2d" in t or "BatchNorm2d" in t:
            assert max(int(c) for c in re.findall(r"(\d+) x ", t)) <= generators.SMALL_TOTAL


OWN = "::error file=fuzz.txt,line=2,col=3,endColumn=4,title=cnncalc G101::a%0Ahint: b\n"
NOT_OWN = ["workflow command", "line that is not cnncalc's own command"]
CHECKS = [
    ("table", "a b\n  c\n", []),
    ("csv", "a\tb\n", ["raw C0 control"]),
    ("csv", "a\x1b[31mb\n", ["raw C0 control"]),
    ("markdown", "a\x9bb\x85\n", ["raw C1 control"]),
    ("spec", "a\x7f\n", ["raw DEL"]),
    ("json", "a\u2028b\n", ["raw U+2028/U+2029"]),
    ("table", "a\udc80b\n", ["raw lone surrogate"]),
    ("diagnostics", "x: error: bad\n::error file=x.py,line=1::INJECTED\n", ["workflow command"]),
    ("check full", "x\n \u00a0 ::add-mask::secret\n", ["workflow command"]),
    ("check concise", "x:1:1: P001 a ##[error]b\n", ["'##[' command"]),
    ("check github", "::group::fuzz.txt\n" + OWN + "::endgroup::\n", []),
    ("check github", OWN + "::error::INJECTED\n", NOT_OWN),
    ("check github", OWN.replace("fuzz.txt", "a,b"), NOT_OWN),
]


@pytest.mark.parametrize(("fmt", "text", "kinds"), CHECKS)
def test_output_checks(fmt: str, text: str, kinds: list[str]) -> None:
    found = target.check_text(fmt, text)
    assert [v.kind for v in found] == kinds
    assert all(v.where == fmt for v in found)


def test_a_clean_spec_breaks_no_property() -> None:
    run = target.load()
    assert run((ROOT / "specs" / "lenet5.txt").read_bytes()) == []


def test_the_path_a_file_is_shown_as_depends_on_its_bytes_alone() -> None:
    paths = {generators.path_for(str(k).encode()) for k in range(400)}
    assert "fuzz.txt" in paths and len(paths) > 5
    assert generators.path_for(b"x") == generators.path_for(b"x")


@pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize("engine", ["mutate", "hypothesis"])
@pytest.mark.parametrize("only", sorted(GENERATORS))
def test_each_engine_runs_each_generator(engine: str, only: str, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    status = fuzz_parsers.main(["--engine", engine, "--only", only, "--runs", "2", "--seed", "3",
                                "--timeout", "0.3", "--memory-mb", "0",
                                "--crashes", str(tmp_path)])
    out = capsys.readouterr().out
    assert re.match(rf"engine {engine}: tried 2 inputs in \d+ s, (\d+) failed", out), out
    failed = int(out.split(", ")[1].split()[0])
    assert status == (1 if failed else 0)
    assert len(list(tmp_path.glob("*.txt"))) <= failed


def test_replay_runs_saved_inputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    saved = tmp_path / "one.txt"
    saved.write_bytes((ROOT / "specs" / "alexnet.txt").read_bytes())
    assert fuzz_parsers.main(["--replay", str(saved), "--memory-mb", "0"]) == 0
    assert capsys.readouterr().out == f"{saved}: ok\n"


def test_the_summary_counts_inputs_by_kind_and_splits_them_by_place(tmp_path: Path) -> None:
    stats = fuzz_parsers.Stats(tmp_path)
    stats.tried = 3
    stats.record_violations(b"a", [target.Violation("raw C0 control", "x", "csv"),
                                   target.Violation("raw C0 control", "y", "csv"),
                                   target.Violation("raw C0 control", "z", "json")])
    stats.record_violations(b"b", [target.Violation("raw C0 control", "x", "csv")])
    assert stats.report("mutate", 1.0).splitlines() == [
        "engine mutate: tried 3 inputs in 1 s, 2 failed",
        "  2 x property: raw C0 control [csv 2, json 1]",
        f"  failing inputs saved in {tmp_path}"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "86f7e437faa5a7fc.log", "86f7e437faa5a7fc.txt", "e9d71f5ee7c92d6d.log",
        "e9d71f5ee7c92d6d.txt"]
