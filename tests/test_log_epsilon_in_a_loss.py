"""A softmax loss written `-log(p_y + 1e-5)` with the textbook gradient `probs - onehot`: the
gradient misses the constant's effect (about 1e-5 / p_y), a harmless choice that gets an info
naming the constant; a real bug in the same function is still an error."""

from tests.userfiles import check, errors, line_of, planted

LOSS = """
    import numpy as np


    def softmax_loss(x, y):
        probs = np.exp(x - np.max(x, axis=1, keepdims=True))
        probs /= np.sum(probs, axis=1, keepdims=True)
        N = x.shape[0]
        loss = -np.sum(np.log(probs[np.arange(N), y] + 1e-5)) / N
        dx = probs.copy()
        dx[np.arange(N), y] -= 1
        dx /= N
        return loss, dx
"""


def test_a_constant_inside_the_log_is_an_info_not_an_error(tmp_path):
    path = planted(tmp_path, "loss.py", LOSS, "dx /= N", "dx /= N")
    report = check(path)
    assert errors(report) == []
    (note,) = [f for f in report["findings"] if f.get("pattern") == "log-epsilon"]
    assert note["severity"] == "info" and "`1e-05`" in note["message"]
    assert line_of(path, "np.log(probs") in note["highlight"]


def test_a_real_bug_beside_the_constant_is_still_an_error(tmp_path):
    path = planted(tmp_path, "loss.py", LOSS, "dx /= N", "dx /= N * N")
    (found,) = errors(check(path))
    assert found["code"] == "BPD101" and found["pattern"] != "log-epsilon"
