"""A temporal loss function with a mask, cs231n's `temporal_softmax_loss(x, y, mask)`: checked on
scores (N, T, V) with every time step counted, like the loss functions of two arguments."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

LOSS = """\
import numpy as np


def temporal_softmax_loss(x, y, mask, verbose=False):
    N, T, V = x.shape
    x_flat = x.reshape(N * T, V)
    y_flat = y.reshape(N * T)
    mask_flat = mask.reshape(N * T)
    probs = np.exp(x_flat - np.max(x_flat, axis=1, keepdims=True))
    probs /= np.sum(probs, axis=1, keepdims=True)
    loss = -np.sum(mask_flat * np.log(probs[np.arange(N * T), y_flat])) / N
    dx_flat = probs.copy()
    dx_flat[np.arange(N * T), y_flat] -= 1
    dx_flat /= N
    dx_flat *= mask_flat[:, None]
    dx = dx_flat.reshape(N, T, V)
    return loss, dx
"""


def test_a_correct_temporal_loss_is_checked_on_a_sequence(tmp_path):
    report = check(write(tmp_path, "rnn_layers.py", LOSS))
    assert errors(report) == []
    (built,) = [b for b in report["built"] if b["what"] == "temporal_softmax_loss"]
    assert built["shapes"].endswith("integer labels, a mask of ones") and ", 3, " in built["shapes"]


def test_a_temporal_loss_without_its_minus_sign_is_found_at_the_loss(tmp_path):
    path = planted(tmp_path, "rnn_layers.py", LOSS, "loss = -np.sum(", "loss = np.sum(")
    (found,) = errors(check(path))
    assert (found["pattern"], found["line"]) == ("loss-sign-flipped", line_of(path, "loss = np.sum("))


def test_a_temporal_loss_that_never_subtracts_the_target_is_named(tmp_path):
    path = planted(tmp_path, "rnn_layers.py", LOSS, "    dx_flat[np.arange(N * T), y_flat] -= 1\n", "")
    (found,) = errors(check(path))
    assert found["pattern"] == "target-not-subtracted"
