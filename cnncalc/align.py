"""Sequence alignment with a bounded amount of work: which elements of two sequences pair up.

``align`` finds a longest common subsequence with Myers' O((N+M)D) algorithm ("An O(ND)
Difference Algorithm and Its Variations", 1986), after stripping the common prefix and suffix;
two descriptions of one network differ in a few places, so D is small and the time close to
linear. Every step of the search counts against a budget proportional to the input, so that two
sequences with nothing in common cannot take quadratic time: when it runs out, ``align``
returns None and the caller pairs what is left by position (and says so).

The result is a list of steps in order: ``(i, j)`` pairs equal elements, ``(i, None)`` is an
element of ``a`` only, ``(None, j)`` one of ``b`` only. Nothing here knows about layers.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

Step = tuple[int | None, int | None]

BASE_BUDGET = 400_000
"""Steps of the search allowed whatever the length, besides ``PER_ELEMENT`` per element."""
PER_ELEMENT = 10


class Budget:
    """The steps of search left, shared by every ``align`` call of one comparison, so that
    aligning many gaps one after another is bounded as one call is."""

    def __init__(self, elements: int) -> None:
        self.left = BASE_BUDGET + PER_ELEMENT * elements


def align(a: Sequence[Hashable], b: Sequence[Hashable], budget: Budget | None = None,
          ) -> list[Step] | None:
    """The steps of a longest common subsequence of ``a`` and ``b`` (elements compared with
    ``==``), or None when the search runs out of ``budget`` (default: a budget of its own
    for ``len(a) + len(b)`` elements). Stripping the common prefix and suffix is linear and
    not counted."""
    if budget is None:
        budget = Budget(len(a) + len(b))
    n, m = len(a), len(b)
    start = 0
    while start < n and start < m and a[start] == b[start]:
        start += 1
    end_a, end_b = n, m
    while end_a > start and end_b > start and a[end_a - 1] == b[end_b - 1]:
        end_a -= 1
        end_b -= 1
    middle = _myers(_ids(a, b, start, end_a, end_b), budget)
    if middle is None:
        return None
    steps: list[Step] = [(i, i) for i in range(start)]
    for i, j in middle:
        steps.append((None if i is None else i + start, None if j is None else j + start))
    steps.extend((end_a + k, end_b + k) for k in range(n - end_a))
    return steps


def by_position(n: int, m: int) -> list[Step]:
    """The fallback: the i-th element of each paired, the longer one's rest unpaired."""
    steps: list[Step] = [(i, i) for i in range(min(n, m))]
    steps.extend((i, None) for i in range(m, n))
    steps.extend((None, j) for j in range(n, m))
    return steps


def _ids(a: Sequence[Hashable], b: Sequence[Hashable], start: int, end_a: int,
         end_b: int) -> tuple[list[int], list[int]]:
    """The middles of ``a`` and ``b`` as small ints (equal elements, equal ints), so that the
    search compares ints, not tuples."""
    table: dict[Hashable, int] = {}
    xs = [table.setdefault(x, len(table)) for x in a[start:end_a]]
    ys = [table.setdefault(y, len(table)) for y in b[start:end_b]]
    return xs, ys


def _myers(pair: tuple[list[int], list[int]], budget: Budget) -> list[Step] | None:
    """Myers' greedy forward search; ``trace[d]`` keeps the furthest x on diagonals -d..d
    (as ``v`` held them when step d began), so memory is O(D^2) for D differences, itself
    bounded by the budget."""
    xs, ys = pair
    n, m = len(xs), len(ys)
    if n == 0 or m == 0:
        return [(i, None) for i in range(n)] + [(None, j) for j in range(m)]
    off = n + m + 1  # v[off + k]: the furthest x reached on diagonal k
    v = [0] * (2 * off + 1)
    trace: list[list[int]] = []
    work = 0
    left = budget.left
    for d in range(n + m + 1):
        trace.append(v[off - d:off + d + 1])
        work += 2 * d + 1
        for k in range(-d, d + 1, 2):
            if k == -d or (k != d and v[off + k - 1] < v[off + k + 1]):
                x = v[off + k + 1]
            else:
                x = v[off + k - 1] + 1
            y = x - k
            run = x
            while x < n and y < m and xs[x] == ys[y]:
                x += 1
                y += 1
            work += x - run
            v[off + k] = x
            if x >= n and y >= m:
                budget.left = left - work
                return _backtrack(trace, n, m)
        if work > left:
            budget.left = 0
            return None
    raise AssertionError("unreachable: d = n + m always reaches the end")


def _backtrack(trace: list[list[int]], n: int, m: int) -> list[Step]:
    steps: list[Step] = []
    x, y = n, m
    for d in range(len(trace) - 1, -1, -1):
        k = x - y
        if d == 0:
            prev_x = prev_y = 0
        else:
            v = trace[d]  # v[d + k]: diagonal k's furthest x after step d - 1
            down = k == -d or (k != d and v[d + k - 1] < v[d + k + 1])
            prev_k = k + 1 if down else k - 1
            prev_x = v[d + prev_k]
            prev_y = prev_x - prev_k
        while x > prev_x and y > prev_y:
            x -= 1
            y -= 1
            steps.append((x, y))
        if d > 0:
            if x == prev_x:
                steps.append((None, y - 1))
            else:
                steps.append((x - 1, None))
            x, y = prev_x, prev_y
    steps.reverse()
    return steps
