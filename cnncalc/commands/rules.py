"""``cnncalc rules [CODE]``: every diagnostic code, or one explained with examples."""

from __future__ import annotations

import json
import sys

import click

from cnncalc.option_style import format_option


@click.command()
@click.argument("code", required=False)
@format_option(("text", "json"), "text", alias=True,
               help="json: code, name, severity, summary for each rule.")
def rules(code: str | None, fmt: str) -> None:
    """List every rule code with its severity and summary, or explain CODE (e.g. W501, or a
    name such as fast-shrinking) with a passing and a failing example.

    Exit status: 0, or 2 for an unknown code.
    """
    from cnncalc.check.explain import (
        explain_text,
        explanations,
        find_rule,
        ordered_rules,
        rules_table,
    )

    if code is None:
        if fmt == "json":
            records = [{"code": r.code, "name": r.name, "severity": r.severity.value,
                        "summary": r.summary} for r in ordered_rules()]
            click.echo(json.dumps(records, indent=2))
        else:
            click.echo(rules_table(), nl=False)
        return
    rule = find_rule(code)
    if rule is None:
        from cnncalc.escape import escape

        click.echo(f"cnncalc: error: '{escape(code)}' is not a rule code or name; "
                   "`cnncalc rules` lists them", err=True)
        sys.exit(2)
    ex = explanations()[rule.code]
    if fmt == "json":
        click.echo(json.dumps({
            "code": rule.code, "name": rule.name, "severity": rule.severity.value,
            "summary": rule.summary, "explanation": ex.why,
            "passing": ex.passing.text if ex.passing else None,
            "failing": ex.failing.text if ex.failing else None}, indent=2))
    else:
        click.echo(explain_text(ex), nl=False)
