"""A function or a model's method returning `(loss, grads)` that the program hands integer token ids
(`E[ids]`, an embedding's lookup) is checked on the ids it was given, not on their float copy (which
cannot index and left it unchecked, "it takes integer ids"): a gradient scattered with `dE[ids] += ...`,
which drops repeated ids, is found at its line, and `np.add.at` is measured right."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

FUNCTION = """\
    import numpy as np

    V, D, L, C = 12, 5, 6, 3

    def loss_and_grads(P, tokens, y):
        n = tokens.shape[0]
        vec = P["emb"][tokens].sum(axis=1)
        s = vec @ P["out"]
        s = s - s.max(axis=1, keepdims=True)
        pr = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
        loss = -np.log(pr[np.arange(n), y]).mean()
        ds = pr.copy()
        ds[np.arange(n), y] -= 1
        ds /= n
        g = {"out": vec.T @ ds}
        dvec = ds @ P["out"].T
        demb = np.zeros_like(P["emb"])
        np.add.at(demb, tokens, np.broadcast_to(dvec[:, None, :], tokens.shape + (D,)))
        g["emb"] = demb
        return loss, g

    def main():
        rng = np.random.default_rng(0)
        tokens = rng.integers(0, V, size=(60, L))
        y = tokens[:, 0] % C
        P = {"emb": 0.3 * rng.standard_normal((V, D)), "out": 0.3 * rng.standard_normal((D, C))}
        for step in range(50):
            pick = rng.choice(len(tokens), size=20, replace=False)
            _, g = loss_and_grads(P, tokens[pick], y[pick])
            for k in P:
                P[k] -= 0.5 * g[k]
            if step % 25 == 0:
                print(loss_and_grads(P, tokens, y)[0])


    if __name__ == "__main__":
        main()
"""

MODEL = """\
    import numpy as np


    class BagRegressor:
        def __init__(self, vocab, dim):
            r = np.random.RandomState(4)
            self.params = {"E": 0.4 * r.randn(vocab, dim), "w": 0.4 * r.randn(dim)}

        def loss(self, ids, target):
            E, w = self.params["E"], self.params["w"]
            h = E[ids].mean(axis=1)
            pred = h @ w
            err = pred - target
            loss = 0.5 * np.mean(err ** 2)
            dpred = err / len(ids)
            dh = np.outer(dpred, w)
            dE = np.zeros_like(E)
            for j in range(ids.shape[1]):
                np.add.at(dE, ids[:, j], dh / ids.shape[1])
            return loss, {"E": dE, "w": h.T @ dpred}


    r = np.random.RandomState(1)
    ids = r.randint(0, 9, size=(24, 4))
    target = (ids % 3).mean(axis=1)
    model = BagRegressor(9, 3)
    for epoch in range(40):
        loss, grads = model.loss(ids, target)
        for k in model.params:
            model.params[k] -= 0.5 * grads[k]
    print(loss)
"""


def _verdicts(report: dict, layer: str) -> dict:
    return {m["param"]: m["verdict"] for m in report["measurements"] if m["layer"] == layer}


def test_a_function_over_token_ids_is_checked_and_clean(tmp_path):
    report = check(write(tmp_path, "bag.py", FUNCTION))
    assert errors(report) == []
    assert _verdicts(report, "loss_and_grads") == {"emb": "ok", "out": "ok"}


def test_a_model_loss_over_token_ids_is_checked_and_clean(tmp_path):
    report = check(write(tmp_path, "model.py", MODEL))
    assert errors(report) == []
    assert _verdicts(report, "BagRegressor") == {"E": "ok", "w": "ok"}


def test_a_scatter_that_drops_repeated_ids_is_found_in_the_function(tmp_path):
    wrong = "demb[tokens] += np.broadcast_to(dvec[:, None, :], tokens.shape + (D,))"
    path = planted(tmp_path, "bag.py", FUNCTION, "np.add.at(demb, tokens, np.broadcast_to(dvec[:, None, :], tokens.shape + (D,)))", wrong)
    report = check(path)
    assert _verdicts(report, "loss_and_grads").get("emb") == "mismatch"
    assert line_of(path, wrong) in {f["line"] for f in errors(report)}


def test_a_scatter_that_drops_repeated_ids_is_found_in_the_model(tmp_path):
    wrong = "dE[ids[:, j]] += dh / ids.shape[1]"
    path = planted(tmp_path, "model.py", MODEL, "np.add.at(dE, ids[:, j], dh / ids.shape[1])", wrong)
    report = check(path)
    assert _verdicts(report, "BagRegressor").get("E") == "mismatch"
    assert errors(report)
