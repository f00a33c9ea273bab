"""``threads.run_split``: pieces of one kernel side by side, the first in the calling thread."""

from __future__ import annotations

import threading
import warnings

import numpy as np

from cnncalc.execute.threads import run_split


def test_results_come_in_order_and_the_first_piece_runs_in_the_caller():
    where: dict[int, int] = {}

    def job(k: int):
        def run() -> int:
            where[k] = threading.get_ident()
            return k * k
        return run

    assert run_split([job(k) for k in range(3)]) == [0, 1, 4]
    assert where[0] == threading.get_ident()
    assert where[1] != threading.get_ident() and where[2] != threading.get_ident()
    assert run_split([job(7)]) == [49] and where[7] == threading.get_ident()
    assert run_split([]) == []


def test_the_pool_pieces_see_the_callers_numpy_error_state():
    """np.errstate is a context variable: an overflow in a pool thread stays silent."""
    big = np.full(4, 3e38, dtype=np.float32)

    def overflow():
        with np.errstate(over="raise"):
            pass
        return np.geterr()["over"]

    with warnings.catch_warnings(), np.errstate(over="ignore"):
        warnings.simplefilter("error")  # a RuntimeWarning from any thread fails the test
        got = run_split([overflow, overflow, lambda: float((big * big)[0])])
    assert got[:2] == ["ignore", "ignore"] and got[2] == float("inf")


def test_an_error_in_a_pool_piece_reaches_the_caller():
    def boom() -> int:
        raise ValueError("piece 2")

    try:
        run_split([lambda: 1, boom])
    except ValueError as exc:
        assert str(exc) == "piece 2"
    else:
        raise AssertionError("the error was lost")
