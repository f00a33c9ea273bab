"""``cnncalc check``: the CI gate over architecture spec files.

discover files (``discover``) -> read settings (``config``, ``settings``, ``globs``) -> parse
and analyse each file as ``show`` does, add advice rules (``lint``), budgets (``budgets``) and
the baseline comparison (``baseline``), keep the selected codes, apply inline suppressions
(``suppress``) (all in ``runner``) -> render (``formats``, ``junit``). ``explain`` and
``examples`` serve ``cnncalc rules``. Nothing here imports numpy, and machine formats never
import rich.
"""
