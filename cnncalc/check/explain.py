"""``cnncalc rules``: every code with its severity and summary; ``cnncalc rules CODE``: why it
exists, a passing and a failing example, and what ``cnncalc check`` says about the failing one
(run there and then, so the text can never drift from the code).

Examples come from the rules' docstrings (B, W: sections ``Passing::`` / ``Failing::``,
optionally ``Failing, with ``max-params = "40K"``::`` giving [tool.cnncalc] settings) or, for
the analysis's own codes and the suppression codes, from ``cnncalc.check.examples``.
"""

from __future__ import annotations

import inspect
import re
import textwrap
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cnncalc.check.baseline import Figures, totals_changed
from cnncalc.check.budgets import BUDGET_RULES, not_judged
from cnncalc.check.examples import EXAMPLES
from cnncalc.check.lint import LINT_RULES
from cnncalc.diagnostics import RULES, Rule

BASELINE_EXAMPLE = Figures(params=47_206, macs=164_640, peak_activations=5_728)
"""The baseline the W701 examples are compared with (the passing example's own totals)."""

_HEADING = re.compile(r"^(?P<kind>Passing|Failing)(?P<rest>[^\n]*?)::$", re.MULTILINE)
_CONFIG = re.compile(r",\s*with\s*``(?P<cfg>[^`]+)``")


@dataclass(frozen=True)
class Case:
    heading: str
    text: str
    config: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Explanation:
    rule: Rule
    why: str
    passing: Case | None
    failing: Case | None
    live: bool = True

    @property
    def code(self) -> str:
        return self.rule.code


def _from_docstring(rule: Rule, doc: str) -> Explanation:
    doc = inspect.cleandoc(doc)
    first = _HEADING.search(doc)
    body = doc[:first.start()] if first else doc
    why = "\n\n".join(p for p in body.split("\n\n")[1:]).strip()
    cases: dict[str, Case] = {}
    heads = list(_HEADING.finditer(doc))
    for i, m in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(doc)
        block = textwrap.dedent(doc[m.end():end].strip("\n")).strip() + "\n"
        rest = m["rest"]
        cfg = _CONFIG.search(rest)
        config = tomllib.loads(cfg["cfg"]) if cfg else {}
        cases[m["kind"]] = Case(f"{m['kind']}{rest}".rstrip(), block, config)
    return Explanation(rule, why, cases.get("Passing"), cases.get("Failing"))


def explanations() -> dict[str, Explanation]:
    out: dict[str, Explanation] = {}
    docs = {r.code: r.doc for r in LINT_RULES} | {r.code: r.doc for r in BUDGET_RULES}
    docs["W701"] = totals_changed.__doc__ or ""
    docs["B404"] = not_judged.__doc__ or ""
    for code, rule in RULES.items():
        if code in docs:
            out[code] = _from_docstring(rule, docs[code])
        elif code in EXAMPLES:
            ex = EXAMPLES[code]
            out[code] = Explanation(rule, ex.why, Case("Passing", ex.passing),
                                    Case("Failing", ex.failing), ex.live)
        else:
            out[code] = Explanation(rule, "", None, None, live=False)
    return out


def find_rule(query: str) -> Rule | None:
    """A rule by code (``w501``) or name (``fast-shrinking``)."""
    q = query.strip()
    if q.upper() in RULES:
        return RULES[q.upper()]
    return next((r for r in RULES.values() if r.name == q.lower()), None)


def run_example(code: str, case: Case) -> list[str]:
    """``cnncalc check`` on an example, as concise lines (path ``example.txt``)."""
    from cnncalc.check.config import settings_from_table
    from cnncalc.check.runner import analyse, check_analysis

    settings = settings_from_table(dict(case.config), Path("pyproject.toml"), "tool.cnncalc")
    fs = settings.for_path("example.txt")
    analysis = analyse(case.text, "example.txt", fs)
    before = BASELINE_EXAMPLE if code == "W701" else None
    result = check_analysis(analysis, fs, settings, before)
    return [f"{d.span.path}:{d.span.line}:{d.span.col}: {d.code} {d.message}"
            for d in result.diagnostics]


def _indent(text: str) -> str:
    return textwrap.indent(text.rstrip("\n"), "    ")


def _heading(case: Case) -> str:
    text = _CONFIG.sub(lambda m: f", with `{m['cfg']}` in [tool.cnncalc]", case.heading)
    return text.replace("``", "`") + ":"


def explain_text(ex: Explanation) -> str:
    r = ex.rule
    parts = [f"{r.code} {r.name} ({r.severity.value})", "", r.summary]
    if ex.why:
        parts += ["", "\n\n".join(textwrap.fill(" ".join(p.split()), 88)
                                  for p in ex.why.replace("``", "`").split("\n\n"))]
    for case in (ex.passing, ex.failing):
        if case is not None:
            parts += ["", _heading(case), "", _indent(case.text)]
    if ex.live and ex.failing is not None:
        lines = run_example(r.code, ex.failing)
        parts += ["", "cnncalc check on the failing example:", "",
                  _indent("\n".join(lines) if lines else "(no findings)")]
    return "\n".join(parts) + "\n"


def ordered_rules() -> list[Rule]:
    """Families in the order the registry introduces them (P, G, C, D, I, B, W, S), codes
    sorted within each."""
    family: dict[str, int] = {}
    for code in RULES:
        family.setdefault(code[0], len(family))
    return sorted(RULES.values(), key=lambda r: (family[r.code[0]], r.code))


def rules_table() -> str:
    rows = [(r.code, r.name, r.severity.value, r.summary) for r in ordered_rules()]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return "".join(f"{c:<{widths[0]}}  {n:<{widths[1]}}  {s:<{widths[2]}}  {summary}\n"
                   for c, n, s, summary in rows)
