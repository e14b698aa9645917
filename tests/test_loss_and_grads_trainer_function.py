"""One function that runs a whole forward and backward pass and returns the loss with the gradients
(`loss, dWxh, dWhh, ... = step(inputs, targets, hprev)`): a character RNN whose weights are globals
the program sets and calls the function once, a recurrent step taking its weights as arguments that
nothing in the file calls (the gradients first, in a dictionary, row-major `x @ W`), a truncated-BPTT
step whose backward loop reuses the forward's loop name, and a two-layer network's `train_step(X, y,
W1, b1, W2, b2)`. Each is checked against the loss it returns, a wrong gradient named at its line;
the correct twins are clean."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

GLOBAL_RNN = """\
    import numpy as np

    text = "the quick brown fox jumps over the lazy dog " * 3
    chars = sorted(set(text))
    V = len(chars)
    to_index = {c: i for i, c in enumerate(chars)}
    H = 12
    np.random.seed(3)
    Wxh = np.random.randn(H, V) * 0.1
    Whh = np.random.randn(H, H) * 0.1
    Why = np.random.randn(V, H) * 0.1
    bh = np.zeros((H, 1))
    by = np.zeros((V, 1))


    def sequence_loss(inputs, targets, hprev):
        xs, hs, ps = {}, {}, {}
        hs[-1] = np.copy(hprev)
        loss = 0.0
        for t in range(len(inputs)):
            xs[t] = np.zeros((V, 1))
            xs[t][inputs[t]] = 1
            hs[t] = np.tanh(Wxh @ xs[t] + Whh @ hs[t - 1] + bh)
            z = Why @ hs[t] + by
            ps[t] = np.exp(z - z.max()) / np.sum(np.exp(z - z.max()))
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
            draw = (1 - hs[t] * hs[t]) * dh
            dbh += draw
            dWxh += draw @ xs[t].T
            dWhh += draw @ hs[t - 1].T
            dhnext = Whh.T @ draw
        return loss, dWxh, dWhh, dWhy, dbh, dby, hs[len(inputs) - 1]


    inputs = [to_index[c] for c in text[:10]]
    targets = [to_index[c] for c in text[1:11]]
    loss, *_ = sequence_loss(inputs, targets, np.random.randn(H, 1) * 0.5)
    print("loss", loss)
"""

ARGUMENT_RNN = """\
    import numpy as np


    def bptt_step(seq, next_tokens, W_xh, W_hh, W_hy, b_h, b_y, hidden_size, seq_length):
        vocab = W_xh.shape[0]
        states = {-1: np.zeros((1, hidden_size))}
        probs, onehots = {}, {}
        loss = 0.0
        for t in range(seq_length):
            onehots[t] = np.zeros((1, vocab))
            onehots[t][0, seq[t]] = 1.0
            states[t] = np.tanh(onehots[t] @ W_xh + states[t - 1] @ W_hh + b_h)
            scores = states[t] @ W_hy + b_y
            e = np.exp(scores - scores.max())
            probs[t] = e / e.sum()
            loss -= np.log(probs[t][0, next_tokens[t]])
        grad_W_xh = np.zeros_like(W_xh)
        grad_W_hh = np.zeros_like(W_hh)
        grad_W_hy = np.zeros_like(W_hy)
        grad_b_h = np.zeros_like(b_h)
        grad_b_y = np.zeros_like(b_y)
        carry = np.zeros((1, hidden_size))
        for t in reversed(range(seq_length)):
            d_scores = probs[t].copy()
            d_scores[0, next_tokens[t]] -= 1.0
            grad_W_hy += states[t].T @ d_scores
            grad_b_y += d_scores
            d_state = d_scores @ W_hy.T + carry
            d_pre = d_state * (1.0 - states[t] ** 2)
            grad_b_h += d_pre
            grad_W_xh += onehots[t].T @ d_pre
            grad_W_hh += states[t - 1].T @ d_pre
            carry = d_pre @ W_hh.T
        grads = {"xh": grad_W_xh, "hh": grad_W_hh, "hy": grad_W_hy, "bh": grad_b_h, "by": grad_b_y}
        return grads, loss
"""

TRUNCATED_RNN = """\
    import numpy as np


    def one_sequence(xs, ys, input_hidden, hidden_hidden, hidden_output, bh, by, nodes, look_back):
        vocab = hidden_output.shape[1]
        hs = {-1: np.zeros((1, nodes))}
        ps = {}
        loss = 0
        for t in range(len(xs)):
            x = np.zeros((1, vocab))
            x[0, xs[t]] = 1
            hs[t] = np.tanh(x @ input_hidden + hs[t - 1] @ hidden_hidden + bh)
            z = hs[t] @ hidden_output + by
            ps[t] = np.exp(z) / np.sum(np.exp(z))
            loss += -np.log(ps[t][0, ys[t]])
        d_ih, d_hh = np.zeros_like(input_hidden), np.zeros_like(hidden_hidden)
        d_ho, d_bh, d_by = np.zeros_like(hidden_output), np.zeros_like(bh), np.zeros_like(by)
        for t in reversed(range(len(xs))):
            d_out = np.copy(ps[t])
            d_out[0, ys[t]] -= 1
            d_by += d_out
            d_ho += np.outer(hs[t], d_out)
            d_inner = (d_out @ hidden_output.T) * (1 - hs[t] ** 2)
            for k in range(max(0, t - look_back), t + 1)[::-1]:
                d_bh += d_inner
                d_hh += np.outer(hs[k - 1], d_inner)
                d_ih[xs[k], :] += d_inner[0]
                d_inner = (d_inner @ hidden_hidden.T) * (1 - hs[k - 1] ** 2)
        return {"IH": d_ih, "HH": d_hh, "HO": d_ho, "BH": d_bh, "BY": d_by}, loss
"""

TRAIN_STEP = """\
    import numpy as np


    def train_step(X, y, W1, b1, W2, b2):
        n = X.shape[0]
        h = np.maximum(0, X @ W1 + b1)
        z = h @ W2 + b2
        z = z - z.max(axis=1, keepdims=True)
        p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        loss = -np.mean(np.log(p[np.arange(n), y]))
        dz = p.copy()
        dz[np.arange(n), y] -= 1
        dz /= n
        dW2 = h.T @ dz
        db2 = dz.sum(axis=0)
        dh = dz @ W2.T * (h > 0)
        dW1 = X.T @ dh
        db1 = dh.sum(axis=0)
        return loss, dW1, db1, dW2, db2
"""


def measured(report: dict, layer: str) -> dict[str, str]:
    return {m["param"]: m["verdict"] for m in report["measurements"] if m["layer"] == layer}


def wrong(report: dict) -> set[tuple[str, int]]:
    return {(f["param"], f["line"]) for f in errors(report) if f["code"] == "BPD101"}


def test_a_char_rnn_over_global_weights_is_checked_clean(tmp_path):
    report = check(write(tmp_path, "char_rnn.py", GLOBAL_RNN))
    assert errors(report) == [], errors(report)
    assert measured(report, "sequence_loss") == dict.fromkeys(["Wxh", "Whh", "Why", "bh", "by"], "ok"), report["built"]


def test_a_char_rnn_reading_the_wrong_state_is_named_at_its_line(tmp_path):
    path = planted(tmp_path, "char_rnn.py", GLOBAL_RNN, "dWhh += draw @ hs[t - 1].T", "dWhh += draw @ hs[t].T  # BUG: the state after")
    report = check(path)
    assert wrong(report) == {("Whh", line_of(path, "# BUG"))}, errors(report)


def test_a_recurrent_step_taking_its_weights_is_checked_without_a_caller(tmp_path):
    report = check(write(tmp_path, "rnn_step.py", ARGUMENT_RNN))
    assert errors(report) == [], errors(report)
    assert measured(report, "bptt_step") == dict.fromkeys(["W_xh", "W_hh", "W_hy", "b_h", "b_y"], "ok"), report["built"]


def test_an_output_bias_gradient_overwritten_each_step_is_named(tmp_path):
    path = planted(tmp_path, "rnn_step.py", ARGUMENT_RNN, "grad_b_y += d_scores", "grad_b_y = d_scores  # BUG: not accumulated")
    report = check(path)
    assert wrong(report) == {("b_y", line_of(path, "# BUG"))}, errors(report)


def test_a_truncated_bptt_step_is_clean_and_its_inner_loop_index_is_not_blamed(tmp_path):
    report = check(write(tmp_path, "one_sequence.py", TRUNCATED_RNN))
    assert errors(report) == [], errors(report)
    assert measured(report, "one_sequence") == dict.fromkeys(["input_hidden", "hidden_hidden", "hidden_output", "bh", "by"], "ok")


def test_a_recurrent_weight_gradient_outer_product_turned_round_is_named(tmp_path):
    # the backward's inner loop reads `xs[k]` where the forward loop read `xs[t]`: that is no mixed-up index
    path = planted(tmp_path, "one_sequence.py", TRUNCATED_RNN, "d_hh += np.outer(hs[k - 1], d_inner)", "d_hh += np.outer(d_inner, hs[k - 1])  # BUG")
    report = check(path)
    assert wrong(report) == {("hidden_hidden", line_of(path, "# BUG"))}, errors(report)
    assert "xs[t]" not in " ".join(f["message"] for f in report["findings"])


def test_a_two_layer_train_step_is_checked_clean(tmp_path):
    report = check(write(tmp_path, "step.py", TRAIN_STEP))
    assert errors(report) == [], errors(report)
    assert measured(report, "train_step") == dict.fromkeys(["W1", "b1", "W2", "b2"], "ok"), report["built"]


def test_a_first_layer_gradient_divided_twice_is_named(tmp_path):
    path = planted(tmp_path, "step.py", TRAIN_STEP, "dW1 = X.T @ dh", "dW1 = X.T @ dh / n  # BUG: dz is already a mean")
    report = check(path)
    assert wrong(report) == {("W1", line_of(path, "# BUG"))}, errors(report)


LOOP_RETURNING_COSTS = """\
    import numpy as np


    def masked_loss(x, y, mask):
        p = np.exp(x - x.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        n = x.shape[0]
        loss = -np.sum(mask * np.log(p[np.arange(n), y])) / n
        dx = p.copy()
        dx[np.arange(n), y] -= 1
        dx = dx / n * mask[:, None]
        return loss, dx


    def optimize(w, b, X, Y, num_iterations, learning_rate):
        costs = []
        for i in range(num_iterations):
            A = 1 / (1 + np.exp(-(w.T @ X + b)))
            dw = X @ (A - Y).T / X.shape[1]
            db = np.mean(A - Y)
            w = w - learning_rate * dw
            b = b - learning_rate * db
            costs.append(float(-np.mean(Y * np.log(A) + (1 - Y) * np.log(1 - A))))
        return {"w": w, "b": b}, {"dw": dw, "db": db}, costs
"""


def test_a_loss_of_scores_and_a_loop_returning_its_costs_are_not_taken_for_loss_and_gradients(tmp_path):
    # `(loss, dx)` of the scores is a loss function's; a list of costs beside the last gradients is a record
    report = check(write(tmp_path, "helpers.py", LOOP_RETURNING_COSTS))
    assert not [b for b in report["built"] if "loss-and-gradients" in str(b.get("how"))], report["built"]
