"""The working copy of a network's input is made in memory an earlier check's copy used, but
never in memory anything alive still refers to: a layer that kept its input (or a view of it)
keeps its values, and two checks in a row give the same report."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import backprop_doctor as bd
from backprop_doctor import scratch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import nets  # noqa: E402


@pytest.fixture(autouse=True)
def empty_pool():
    scratch.forget()
    yield
    scratch.forget()


def test_a_copy_holds_the_values_in_memory_of_its_own():
    a = np.arange(12.0).reshape(3, 4)
    copy = scratch.copy_of(a)
    assert copy is not a and not np.shares_memory(copy, a)
    assert copy.dtype == a.dtype and copy.shape == a.shape and copy.flags.c_contiguous and copy.flags.writeable
    np.testing.assert_array_equal(copy, a)


def test_a_float32_array_is_copied_as_float64_when_asked():
    a = np.linspace(0, 1, 7, dtype=np.float32)
    copy = scratch.copy_of(a, np.float64)
    assert copy.dtype == np.float64
    np.testing.assert_array_equal(copy, a.astype(np.float64))


def test_the_memory_of_a_copy_nothing_holds_is_used_again():
    a = np.ones((5, 3))
    address = scratch.copy_of(a).__array_interface__["data"][0]  # the copy is let go at once
    again = scratch.copy_of(np.zeros((5, 3)))
    assert again.__array_interface__["data"][0] == address
    np.testing.assert_array_equal(again, 0.0)


@pytest.mark.parametrize("keep", [lambda c: c, lambda c: c[1:], lambda c: c.T, lambda c: c.reshape(-1)], ids=["itself", "rows", "transpose", "flat"])
def test_a_copy_still_held_is_never_written_into(keep):
    first = np.full((4, 6), 7.0)
    kept = keep(scratch.copy_of(first))  # a layer's `self.x = x` (or a view of x)
    second = scratch.copy_of(np.full((4, 6), -1.0))
    assert not np.shares_memory(kept, second)
    np.testing.assert_array_equal(kept, 7.0)
    np.testing.assert_array_equal(second, -1.0)


def test_arrays_above_the_limit_are_not_kept(monkeypatch):
    monkeypatch.setattr(scratch, "KEPT_BYTES", 64)
    big = np.ones(9)  # 72 bytes
    scratch.copy_of(big)
    assert not scratch._KEPT
    small = np.ones(8)
    scratch.copy_of(small)
    assert len(scratch._KEPT) == 1


def test_the_pool_keeps_a_few_shapes_at_most():
    for n in range(1, 3 * scratch.KEPT_ARRAYS):
        scratch.copy_of(np.ones(n))
    assert len(scratch._KEPT) == scratch.KEPT_ARRAYS
    assert sum(a.nbytes for a in scratch._KEPT.values()) <= scratch.KEPT_BYTES


def test_checks_in_a_row_give_the_same_report_and_leave_the_callers_arrays_alone():
    net, x, t = nets.two_layer_net(hidden=20, batch=30)
    x_before, params_before = x.copy(), {k: v.copy() for k, v in net.params.items()}
    first = bd.check_network(net, x, t)
    second = bd.check_network(net, x, t)
    assert first.ok and second.ok
    assert first.measurements == second.measurements and first.findings == second.findings
    assert len(first.measurements) >= 4  # W1, b1, W2, b2 at least
    assert x.tobytes() == x_before.tobytes()
    assert all(net.params[k].tobytes() == v.tobytes() for k, v in params_before.items())
