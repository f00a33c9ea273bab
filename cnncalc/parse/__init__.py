"""Front ends: each notation's text becomes the same Spec."""

from __future__ import annotations

from cnncalc.parse.lecture import parse_lecture
from cnncalc.spec import Spec

NOTATIONS = ("lecture",)


def parse_text(text: str, path: str, notation: str | None = None) -> Spec:
    """Parse ``text`` read from ``path``; ``notation`` None means detect it."""
    if text.startswith("\ufeff"):
        text = text[1:]
    return parse_lecture(text, path)
