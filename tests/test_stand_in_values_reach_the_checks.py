"""A value made by a module that is not installed (`pd.read_csv(...).values`, a stand-in) can reach
a function the program calls: the checks that read the shapes the program's calls were given skip
it (a stand-in answers `.shape` with another stand-in, and `len()` of that raised: a real textbook
chapter that loads its data with pandas crashed the softmax check)."""

from __future__ import annotations

import numpy as np

from backprop_doctor.checks.softmax_not_per_row import _shape
from backprop_doctor.loading.stubs import Stub


def test_a_stand_in_has_no_shape_to_read() -> None:
    value = Stub("pandas.read_csv").values
    assert not isinstance(np.shape(value), tuple)  # what made the check crash
    assert _shape(value) is None


def test_arrays_and_ragged_lists_keep_their_answers() -> None:
    assert _shape(np.zeros((3, 4))) == (3, 4)
    assert _shape([np.zeros(2), np.zeros(3)]) is None
