"""Embeddings trained a row at a time: `W_in[c] -= lr * g` moves one row of a matrix.

Skip-gram scripts (word2vec written by hand) update the rows of two embedding matrices that one
training pair touches. The replay measures each row as a parameter of its own (`W_in[3]`), and a
row read through a view (`h = W_in[c]`, or a name bound before the pass) after the update moved
it is named as the stale read it is.
"""

from __future__ import annotations

from userfiles import check, errors, line_of, planted, replayed, write

PAIRS = [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (5, 6), (6, 0)]
SKIP_GRAM = """\
    import numpy as np

    np.random.seed(3)
    V, D = 7, 4
    W_in = np.random.randn(V, D) * 0.3
    W_out = np.random.randn(V, D) * 0.3
    pairs = PAIRS_TEXT
    lr = 0.1


    def sigmoid(z):
        return 1 / (1 + np.exp(-z))


    for epoch in range(30):
        total = 0.0
        for c, o in pairs:
            h = W_in[c].copy()
            v = W_out[o].copy()
            s = sigmoid(h @ v)
            loss = -np.log(s)
            total += loss
            g = s - 1
            grad_in = g * v
            grad_out = g * h
            W_in[c] -= lr * grad_in
            W_out[o] -= lr * grad_out
        print(epoch, total)
""".replace("PAIRS_TEXT", repr(PAIRS))


def test_a_skip_gram_script_is_replayed_row_by_row_and_gets_no_error(tmp_path):
    report = check(write(tmp_path, "skipgram.py", SKIP_GRAM))
    names = {p["name"] for p in replayed(report)["parameters"]}
    assert any(names == {f"W_in[{c}]", f"W_out[{o}]"} for c, o in PAIRS)  # the two rows one pair moves
    assert not any(p["wrong"] for p in replayed(report)["parameters"])
    assert errors(report) == []


def test_a_wrong_row_gradient_is_named_at_its_line(tmp_path):
    path = planted(tmp_path, "skipgram.py", SKIP_GRAM, "grad_in = g * v", "grad_in = s * v")
    report = check(path)
    found = errors(report)
    assert [e["name"] for e in found] == ["step-gradient-mismatch"]
    assert any(found[0]["param"] == f"W_in[{c}]" for c, _ in PAIRS)
    assert found[0]["line"] == line_of(path, "grad_in = s * v")


def test_a_row_read_through_a_view_after_its_update_is_a_stale_read(tmp_path):
    # `h` and `v` are views of the rows: the second update reads `h` after the first moved it
    source = SKIP_GRAM.replace("W_in[c].copy()", "W_in[c]").replace("W_out[o].copy()", "W_out[o]")
    source = source.replace("            grad_out = g * h\n", "").replace("W_out[o] -= lr * grad_out", "W_out[o] -= lr * g * h")
    path = write(tmp_path, "skipgram.py", source)
    report = check(path)
    found = errors(report)
    assert [(e["name"], e["pattern"]) for e in found] == [("step-gradient-mismatch", "stale-weights")]
    assert found[0]["line"] == line_of(path, "W_out[o] -= lr * g * h")
    assert "`W_in`, which `h` is a view into" in found[0]["message"]
    assert f"after line {line_of(path, 'W_in[c] -= lr * grad_in')}" in found[0]["message"]


def test_a_view_bound_before_the_pass_moves_with_its_row_in_the_replay(tmp_path):
    # `center` is bound in the outer loop: the replay's copy of the state keeps it a view of `W_in`,
    # so the update of `W_in` moves it there as it does in the program
    source = """\
        import numpy as np

        np.random.seed(5)
        W_in = np.random.randn(6, 3) * 0.3
        W_out = np.random.randn(6, 3) * 0.3
        lr = 0.1
        for epoch in range(20):
            for c in range(5):
                center = W_in[c]
                for o in (c + 1,):
                    s = 1 / (1 + np.exp(-center @ W_out[o]))
                    loss = -np.log(s)
                    grad = (s - 1) * W_out[o]
                    W_in[c] -= lr * grad
                    W_out[o] -= lr * (s - 1) * center
    """
    path = write(tmp_path, "nested.py", source)
    report = check(path)
    found = errors(report)
    assert [(e["name"], e["pattern"]) for e in found] == [("step-gradient-mismatch", "stale-weights")]
    assert found[0]["line"] == line_of(path, "W_out[o] -= lr * (s - 1) * center")
    assert "`W_in`, which `center` is a view into" in found[0]["message"]
    fixed = check(write(tmp_path / "fixed", "nested.py", source.replace("center = W_in[c]", "center = W_in[c].copy()")))
    assert errors(fixed) == []
    # the pass computes with the copy the outer loop took: its update of `W_in` is not judged there
    assert any({p["name"] for p in replayed(fixed)["parameters"]} == {f"W_out[{c + 1}]"} for c in range(5))
