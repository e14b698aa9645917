"""A recurrent language model over token ids, pasted as a class with no program that trains it.

The class reads one token id per time step (`self.Wx[:, tokens[t]]`), so the replay's driver builds
it with a vocabulary, makes one sequence of token ids with the next id of each as its target, and
calls its training method once. Its updates are then judged against its own loss. A walk back
through time cut short on purpose (`self.bptt_truncate`) is named as truncated BPTT only while
the gradient is right once the walk covers the whole sequence.
"""

from __future__ import annotations

from pathlib import Path

from userfiles import check, errors, line_of, planted, replayed, step_verdicts

MODEL = """
import numpy as np


class TokenRNN:
    def __init__(self, vocab_size, hidden_size=6, bptt_truncate=100):
        self.bptt_truncate = bptt_truncate
        self.Wx = np.random.randn(hidden_size, vocab_size) * 0.3
        self.Wh = np.random.randn(hidden_size, hidden_size) * 0.3
        self.Wy = np.random.randn(vocab_size, hidden_size) * 0.3

    def forward(self, tokens):
        T = len(tokens)
        h = np.zeros((T + 1, self.Wh.shape[0]))
        p = np.zeros((T, self.Wy.shape[0]))
        for t in range(T):
            h[t] = np.tanh(self.Wx[:, tokens[t]] + self.Wh.dot(h[t - 1]))
            e = np.exp(self.Wy.dot(h[t]))
            p[t] = e / e.sum()
        return p, h

    def loss(self, tokens, targets):
        p, _ = self.forward(tokens)
        return -np.sum(np.log(p[np.arange(len(targets)), targets]))

    def gradients(self, tokens, targets):
        T = len(targets)
        p, h = self.forward(tokens)
        dWx = np.zeros(self.Wx.shape)
        dWh = np.zeros(self.Wh.shape)
        dWy = np.zeros(self.Wy.shape)
        dy = p.copy()
        dy[np.arange(T), targets] -= 1.0
        for t in reversed(range(T)):
            dWy += np.outer(dy[t], h[t])
            dz = self.Wy.T.dot(dy[t]) * (1 - h[t] ** 2)
            for s in range(t, max(-1, t - self.bptt_truncate - 1), -1):
                dWh += np.outer(dz, h[s - 1])
                dWx[:, tokens[s]] += dz
                dz = self.Wh.T.dot(dz) * (1 - h[s - 1] ** 2)
        return dWx, dWh, dWy

    def sgd_step(self, tokens, targets, learning_rate):
        dWx, dWh, dWy = self.gradients(tokens, targets)
        self.Wx -= learning_rate * dWx
        self.Wh -= learning_rate * dWh
        self.Wy -= learning_rate * dWy
"""

THROUGH_TIME = "dz = self.Wh.T.dot(dz) * (1 - h[s - 1] ** 2)"
TANH_SLOPE_LEFT_OUT = "dz = self.Wh.T.dot(dz)"


def test_the_correct_model_is_driven_on_token_ids_and_gets_no_finding(tmp_path: Path) -> None:
    path = planted(tmp_path, "rnn.py", MODEL, THROUGH_TIME, THROUGH_TIME)
    report = check(path)
    assert report["findings"] == []
    assert "token ids" in replayed(report)["driver"]
    assert step_verdicts(report) == {"self.Wx": "ok", "self.Wh": "ok", "self.Wy": "ok"}


def test_the_tanh_slope_left_out_through_time_is_an_error_where_the_gradient_is_summed(tmp_path: Path) -> None:
    path = planted(tmp_path, "rnn.py", MODEL, THROUGH_TIME, TANH_SLOPE_LEFT_OUT)
    report = check(path)
    found = {f["param"]: f for f in errors(report)}
    assert set(found) == {"self.Wx", "self.Wh"} and step_verdicts(report)["self.Wy"] == "ok"
    assert found["self.Wx"]["line"] == line_of(path, "dWx[:, tokens[s]] += dz")
    assert found["self.Wh"]["line"] == line_of(path, "dWh += np.outer(dz, h[s - 1])")


def test_a_walk_cut_short_on_purpose_is_truncated_bptt_not_an_error(tmp_path: Path) -> None:
    path = planted(tmp_path, "rnn.py", MODEL, "bptt_truncate=100", "bptt_truncate=2")
    report = check(path)
    assert errors(report) == []
    assert {f["pattern"] for f in report["findings"]} == {"truncated-bptt"}


def test_a_wrong_walk_cut_short_is_still_an_error(tmp_path: Path) -> None:
    """The slope left out stays wrong with the whole sequence walked: the truncation does not explain it."""
    path = planted(tmp_path, "rnn.py", MODEL, THROUGH_TIME, TANH_SLOPE_LEFT_OUT)
    path.write_text(path.read_text(encoding="utf-8").replace("bptt_truncate=100", "bptt_truncate=2"), encoding="utf-8")
    report = check(path)
    assert {f["param"] for f in errors(report)} == {"self.Wx", "self.Wh"}
    assert all(f["pattern"] != "truncated-bptt" for f in report["findings"])
