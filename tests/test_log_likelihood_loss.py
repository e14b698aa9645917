"""A loss object whose `loss` returns the log-likelihood (no minus in front) while its `gradient`
is the negative log-likelihood's, as gradient boosting code often writes it: the two disagree
in sign, and the line to change is the loss's, not the gradient training uses."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

LOSS = '''\
import numpy as np


class LogisticLoss:
    def loss(self, y, y_pred):
        p = 1 / (1 + np.exp(-y_pred))
        return -(y * np.log(p) + (1 - y) * np.log(1 - p))

    def gradient(self, y, y_pred):
        p = 1 / (1 + np.exp(-y_pred))
        return p - y
'''


def test_a_consistent_loss_object_has_no_error(tmp_path):
    assert [f for f in errors(check(write(tmp_path, "losses.py", LOSS))) if f["name"] == "gradient-mismatch"] == []


def test_a_log_likelihood_loss_is_blamed_at_its_return(tmp_path):
    path = planted(tmp_path, "losses.py", LOSS, "return -(y * np.log(p) + (1 - y) * np.log(1 - p))", "return y * np.log(p) + (1 - y) * np.log(1 - p)")
    (finding,) = [f for f in errors(check(path)) if f["name"] == "gradient-mismatch"]
    assert (finding["pattern"], finding["line"]) == ("loss-sign-flipped", line_of(path, "return y * np.log(p)"))
    assert "return the negative from `loss`" in finding["message"]


def test_a_gradient_with_its_sign_flipped_is_still_blamed_on_the_gradient(tmp_path):
    path = planted(tmp_path, "losses.py", LOSS, "return p - y", "return y - p")
    (finding,) = [f for f in errors(check(path)) if f["name"] == "gradient-mismatch"]
    assert finding["pattern"] == "sign-flipped" and finding["line"] == line_of(path, "return y - p")
