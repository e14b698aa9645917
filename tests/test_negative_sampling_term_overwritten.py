"""A centre word's gradient bound anew in the loop over the negative samples (`g = ...` where `g += ...`
is meant): only the last negative's term is left. With the context embeddings started at zeros and moved
row by row, the second pass's rows are still zero, so the wrong gradient equals the right one there; the
replay takes the step again at a later pass where no row it moves is zero (`replay._unzeroed`), and the
finding names the statement in the loop that overwrites the sum. Two styles: a function returning the
gradients (the zero-row case), and the whole step written inline in the loop. The correct twins are clean.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

RETURNED = """\
import numpy as np

V, D = 12, 5
SHIFTS = np.array([3, 6, 9])  # the negatives of `o` share its residue mod 3
rng = np.random.RandomState(5)
ring = [((o - 1) % V, o) for o in range(V)]  # each word predicts the next one on a ring


def sigma(a):
    return 1.0 / (1.0 + np.exp(-a))


def negative_sampling_grads(U, Vout, c, o):
    negs = (o + SHIFTS) % V
    u = U[c]
    p = sigma(Vout[o] @ u)
    qs = sigma(-(Vout[negs] @ u))
    loss = -np.log(p) - np.log(qs).sum()
    grad_u = (p - 1.0) * Vout[o]
    grad_negs = []
    for i, n in enumerate(negs):
        grad_u += (1.0 - qs[i]) * Vout[n]
        grad_negs.append((n, (1.0 - qs[i]) * u))
    return loss, grad_u, (p - 1.0) * u, grad_negs


U = rng.normal(0.0, 0.1, size=(V, D))
Vout = np.zeros((V, D))
for epoch in range(30):
    total = 0.0
    for c, o in ring:
        loss, grad_u, grad_o, grad_negs = negative_sampling_grads(U, Vout, c, o)
        total += loss
        U[c] -= 0.3 * grad_u
        Vout[o] -= 0.3 * grad_o
        for n, g in grad_negs:
            Vout[n] -= 0.3 * g
    print(epoch, total / len(ring))
"""

INLINE = """\
import numpy as np

rng = np.random.default_rng(11)
n_vocab, width, n_neg = 16, 8, 5
sentences = [rng.permutation(n_vocab)[:6] for _ in range(250)]
examples = [(s[i], s[j]) for s in sentences for i in range(6) for j in range(max(0, i - 1), min(6, i + 2)) if i != j]

emb_in = rng.normal(0.0, 0.05, size=(n_vocab, width))
emb_out = np.zeros((n_vocab, width))
step = 0.05

for sweep in range(2):
    seen = 0.0
    for centre, target in examples:
        others = rng.choice(np.delete(np.arange(n_vocab), target), size=n_neg, replace=False)
        h = emb_in[centre]
        pos = 1.0 / (1.0 + np.exp(-(emb_out[target] @ h)))
        neg = 1.0 / (1.0 + np.exp(emb_out[others] @ h))
        cost = -np.log(pos) - np.sum(np.log(neg))
        seen += cost
        grad_h = (pos - 1.0) * emb_out[target]
        grad_rows = np.zeros((n_neg, width))
        for k in range(n_neg):
            grad_h += (1.0 - neg[k]) * emb_out[others[k]]
            grad_rows[k] = (1.0 - neg[k]) * h
        emb_in[centre] -= step * grad_h
        emb_out[target] -= step * (pos - 1.0) * h
        for k in range(n_neg):
            emb_out[others[k]] -= step * grad_rows[k]
    print(sweep, seen / len(examples))
"""


def _clean(report: dict) -> bool:
    return not [f for f in report["findings"] if f["severity"] in ("error", "warning")]

ADDED_R = "        grad_u += (1.0 - qs[i]) * Vout[n]"
BOUND_R = "        grad_u = (1.0 - qs[i]) * Vout[n]"
ADDED_I = "            grad_h += (1.0 - neg[k]) * emb_out[others[k]]"
BOUND_I = "            grad_h = (1.0 - neg[k]) * emb_out[others[k]]"


def test_the_correct_function_is_clean(tmp_path):
    assert _clean(check(planted(tmp_path, "sgns_ring.py", RETURNED, ADDED_R, ADDED_R)))


def test_a_term_overwritten_behind_zero_rows_is_named_at_its_line(tmp_path):
    path = planted(tmp_path, "sgns_ring.py", RETURNED, ADDED_R, BOUND_R)
    report = check(path)
    root = report["findings"][report["root_cause"]]
    assert root["code"] == "BPD108" and root["severity"] == "error"
    assert root["line"] == line_of(path, BOUND_R)
    assert root["pattern"] == "term-overwritten"
    assert "`grad_u += ...`" in root["message"]
    assert report["extras"]["replay"][0]["later_pass"] is not None  # found past the pass whose rows are zero


def test_the_correct_inline_step_is_clean(tmp_path):
    assert _clean(check(planted(tmp_path, "sgns_inline.py", INLINE, ADDED_I, ADDED_I)))


def test_a_term_overwritten_inline_is_named_at_its_line(tmp_path):
    path = planted(tmp_path, "sgns_inline.py", INLINE, ADDED_I, BOUND_I)
    report = check(path)
    root = report["findings"][report["root_cause"]]
    assert root["code"] == "BPD108"
    assert root["line"] == line_of(path, BOUND_I)
    assert root["pattern"] == "term-overwritten"
