"""Gradients a backward loop over time adds into, started at zero together in one tuple assignment
(`dWxh, dWhh, dWhy = np.zeros_like(Wxh), ...`, min-char-rnn) or as entries of one dict of zeros
(`grads = {k: np.zeros_like(v) ...}`, then `grads["Wh"] += ...`): a wrong one is named at the line
that adds into it, not at the line that starts it at zero."""

from tests.userfiles import check, errors, line_of, planted

RNN = """
    import numpy as np

    np.random.seed(1)
    data = "hello world, hello rnn. " * 4
    chars = sorted(set(data))
    V, H, T = len(chars), 12, 8
    ix = {c: i for i, c in enumerate(chars)}
    Wxh = np.random.randn(H, V) * 0.1
    Whh = np.random.randn(H, H) * 0.1
    Why = np.random.randn(V, H) * 0.1
    bh, by = np.zeros((H, 1)), np.zeros((V, 1))


    def lossFun(inputs, targets, hprev):
        xs, hs, ps = {}, {}, {}
        hs[-1] = np.copy(hprev)
        loss = 0
        for t in range(len(inputs)):
            xs[t] = np.zeros((V, 1))
            xs[t][inputs[t]] = 1
            hs[t] = np.tanh(Wxh @ xs[t] + Whh @ hs[t - 1] + bh)
            y = Why @ hs[t] + by
            ps[t] = np.exp(y) / np.sum(np.exp(y))
            loss += -np.log(ps[t][targets[t], 0])
        dWxh, dWhh, dWhy = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(Why)
        dbh, dby = np.zeros_like(bh), np.zeros_like(by)
        dhnext = np.zeros_like(hs[0])
        for t in reversed(range(len(inputs))):
            dy = np.copy(ps[t])
            dy[targets[t]] -= 1
            dWhy += dy @ hs[t].T
            dby += dy
            dh = Why.T @ dy + dhnext
            dhraw = (1 - hs[t] * hs[t]) * dh
            dbh += dhraw
            dWxh += dhraw @ xs[t].T
            dWhh += dhraw @ hs[t - 1].T
            dhnext = Whh.T @ dhraw
        return loss, dWxh, dWhh, dWhy, dbh, dby, hs[len(inputs) - 1]


    p, hprev = 0, np.zeros((H, 1))
    for n in range(200):
        if p + T + 1 >= len(data):
            p, hprev = 0, np.zeros((H, 1))
        inputs = [ix[c] for c in data[p:p + T]]
        targets = [ix[c] for c in data[p + 1:p + T + 1]]
        loss, dWxh, dWhh, dWhy, dbh, dby, hprev = lossFun(inputs, targets, hprev)
        for param, dparam in zip([Wxh, Whh, Why, bh, by], [dWxh, dWhh, dWhy, dbh, dby]):
            param -= 0.05 * dparam
        p += T
"""


def test_the_correct_rnn_is_clean(tmp_path):
    assert errors(check(planted(tmp_path, "rnn.py", RNN, "hs[t - 1].T", "hs[t - 1].T"))) == []


def test_a_wrong_recurrent_gradient_is_named_where_it_is_added_into(tmp_path):
    path = planted(tmp_path, "rnn.py", RNN, "dWhh += dhraw @ hs[t - 1].T", "dWhh += dhraw @ hs[t].T")
    found = errors(check(path))
    assert [(f["code"], f["param"]) for f in found] == [("BPD108", "Whh")], found
    assert found[0]["line"] == line_of(path, "dWhh += dhraw @ hs[t].T")


CLIPPED = ("    return loss, dWxh,", "    for dparam in [dWxh, dWhh, dWhy, dbh, dby]:\n        np.clip(dparam, -0.05, 0.05, out=dparam)\n    return loss, dWxh,")


def test_gradients_clipped_inside_the_loss_function_are_compared_where_they_are_not_clipped(tmp_path):
    """min-char-rnn clips every gradient in `lossFun` before returning it: the clipped entries are the
    program's choice, not a wrong gradient."""
    path = planted(tmp_path, "rnn.py", RNN, *CLIPPED)
    report = check(path)
    assert errors(report) == []
    assert any(abs(v) >= 0.05 for v in _first_gradient_entries(path)), "the bound must clip some entries for this test to mean anything"


def test_a_wrong_gradient_is_still_found_beside_the_clip(tmp_path):
    path = planted(tmp_path, "rnn.py", RNN.replace("dWhh += dhraw @ hs[t - 1].T", "dWhh += dhraw @ hs[t].T"), *CLIPPED)
    found = errors(check(path))
    assert [(f["code"], f["param"]) for f in found] == [("BPD108", "Whh")], found


def _first_gradient_entries(path) -> list[float]:
    """The unclipped entries of the first pass's gradients, computed by running the file's own
    `lossFun` without its clip in a subprocess."""
    import json
    import subprocess
    import sys

    text = path.read_text(encoding="utf-8").replace("np.clip(dparam, -0.05, 0.05, out=dparam)", "pass")
    code = text.split("p, hprev = 0")[0] + (
        "import json\ninputs = [ix[c] for c in data[0:T]]\ntargets = [ix[c] for c in data[1:T + 1]]\n"
        "out = lossFun(inputs, targets, np.zeros((H, 1)))\nprint(json.dumps([float(v) for g in out[1:6] for v in g.ravel()]))\n"
    )
    return json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
