"""Parameters bound afresh at the start of every pass, in containers the replay cannot follow from
one pass to the next (a dict made by an init function, a list of new arrays): the loss stays where
it starts, and the report names the re-initialisation (step-reinitialised) rather than an update
lost on a copy. Two styles; the twins that initialise once, before the loop, are clean of both."""

import pytest

from tests.userfiles import check, line_of, write

# a dict of parameters made by a function, inside `main()`'s epoch loop
DICT = """
    import numpy as np


    def make_params(rng, n_in, n_hidden):
        return {"A": rng.normal(0, 0.5, (n_in, n_hidden)), "a": np.zeros(n_hidden),
                "B": rng.normal(0, 0.5, (n_hidden, 1)), "c": np.zeros(1)}


    def loss_and_grads(p, X, y):
        h = np.tanh(X @ p["A"] + p["a"])
        out = (h @ p["B"] + p["c"])[:, 0]
        r = out - y
        d = (r / len(y))[:, None]
        g = {"B": h.T @ d, "c": d.sum(0)}
        dh = (d @ p["B"].T) * (1 - h ** 2)
        g["A"] = X.T @ dh
        g["a"] = dh.sum(0)
        return 0.5 * np.mean(r ** 2), g


    def main():
        rng = np.random.default_rng(3)
        X = rng.normal(size=(80, 3))
        y = np.sin(X[:, 0]) + X[:, 1] * X[:, 2]
        params = make_params(np.random.default_rng(1), 3, 10)
        for epoch in range(200):
            loss, grads = loss_and_grads(params, X, y)
            for name in params:
                params[name] -= 0.2 * grads[name]
            if epoch % 40 == 0:
                print(epoch, loss)


    if __name__ == "__main__":
        main()
"""
DICT_ONCE = "    params = make_params(np.random.default_rng(1), 3, 10)\n    for epoch in range(200):\n"
DICT_EACH = "    for epoch in range(200):\n        params = make_params(np.random.default_rng(1), 3, 10)\n"

# a list of new arrays, in a module-level while loop
LIST = """
    import numpy as np

    np.random.seed(4)
    X = np.random.randn(60, 2)
    t = (X[:, :1] * X[:, 1:] > 0).astype(float)
    step = 0
    weights = [np.random.randn(2, 8) * 0.5, np.zeros(8), np.random.randn(8, 1) * 0.5, np.zeros(1)]
    while step < 150:
        z = X @ weights[0] + weights[1]
        a = np.maximum(z, 0)
        s = a @ weights[2] + weights[3]
        p = 1 / (1 + np.exp(-s))
        loss = -np.mean(t * np.log(p) + (1 - t) * np.log(1 - p))
        ds = (p - t) / len(t)
        da = ds @ weights[2].T * (z > 0)
        grads = [X.T @ da, da.sum(0), a.T @ ds, ds.sum(0)]
        for i in range(len(weights)):
            weights[i] -= 0.5 * grads[i]
        step += 1
    print(loss)
"""
LIST_ONCE = "weights = [np.random.randn(2, 8) * 0.5, np.zeros(8), np.random.randn(8, 1) * 0.5, np.zeros(1)]\nwhile step < 150:\n"
LIST_EACH = "while step < 150:\n    weights = [np.random.randn(2, 8) * 0.5, np.zeros(8), np.random.randn(8, 1) * 0.5, np.zeros(1)]\n"

CASES = [pytest.param(DICT, DICT_ONCE, DICT_EACH, "params = make_params", id="dict"), pytest.param(LIST, LIST_ONCE, LIST_EACH, "weights = [", id="list")]


def _source(text: str, once: str, each: str, fresh: bool) -> str:
    import textwrap

    source = textwrap.dedent(text)
    assert once in source
    return source.replace(once, each) if fresh else source


@pytest.mark.parametrize(("text", "once", "each", "made"), CASES)
def test_parameters_made_afresh_at_every_pass_are_named_there(tmp_path, text, once, each, made):
    path = write(tmp_path, "train.py", _source(text, once, each, fresh=True))
    report = check(path, training=True)
    root = report["findings"][report["root_cause"]]
    assert (root["code"], root["line"]) == ("BPD630", line_of(path, made)), root
    assert [f for f in report["findings"] if f["code"] == "BPD613"] == [], report["findings"]


@pytest.mark.parametrize(("text", "once", "each", "made"), CASES)
def test_parameters_made_once_are_clean_of_it(tmp_path, text, once, each, made):
    report = check(write(tmp_path, "train.py", _source(text, once, each, fresh=False)), training=True)
    assert [f for f in report["findings"] if f["code"] in ("BPD630", "BPD613")] == [], report["findings"]
