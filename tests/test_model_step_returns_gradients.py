"""A model whose `backward(y_pred, y_train, cache)` returns the gradients and whose loss is computed only
in a step method beside it (`grad, loss = model.train_step(X, y)`), built from sizes with no defaults
(`Net(D, C, H)`) and never built in its file: checked through that step method, the loss it returns
against the gradients it returns, with dropout and batch normalisation inside; a base class whose
constructor raises NotImplementedError is listed as not checked; a wrong gradient is found at its line."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

# style 1: a base class with the step, subclasses with a dict of parameters, dropout and batch norm
BASE = '''\
import numpy as np


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


class Model:
    def __init__(self, D, C, H, lam=1e-2, keep=0.7):
        self.lam, self.keep = lam, keep
        self._init_model(D, C, H)

    def train_step(self, X_train, y_train):
        scores, cache = self.forward(X_train, train=True)
        m = scores.shape[0]
        p = softmax(scores)
        loss = -np.mean(np.log(p[range(m), y_train]))
        loss += 0.5 * self.lam * sum(np.sum(self.model[k] ** 2) for k in self.model if k.startswith("W"))
        grad = self.backward(scores, y_train, cache)
        return grad, loss

    def forward(self, X, train=False):
        raise NotImplementedError()

    def backward(self, y_pred, y_train, cache):
        raise NotImplementedError()

    def _init_model(self, D, C, H):
        raise NotImplementedError()


class NormedNet(Model):
    def forward(self, X, train=False):
        a = X @ self.model["W1"] + self.model["b1"]
        mu, var = a.mean(axis=0), a.var(axis=0)
        an = (a - mu) / np.sqrt(var + 1e-5)
        bn = self.model["gamma"] * an + self.model["beta"]
        h = np.maximum(bn, 0)
        u = (np.random.rand(*h.shape) < self.keep) / self.keep
        hd = h * u
        scores = hd @ self.model["W2"] + self.model["b2"]
        return scores, (X, a, an, var, bn, u, hd)

    def backward(self, y_pred, y_train, cache):
        X, a, an, var, bn, u, hd = cache
        m = y_pred.shape[0]
        dscores = softmax(y_pred)
        dscores[range(m), y_train] -= 1
        dscores /= m
        dW2 = hd.T @ dscores + self.lam * self.model["W2"]
        db2 = dscores.sum(axis=0)
        dh = dscores @ self.model["W2"].T * u
        dbn = dh * (bn > 0)
        dgamma = np.sum(dbn * an, axis=0)
        dbeta = np.sum(dbn, axis=0)
        dan = dbn * self.model["gamma"]
        da = (dan - dan.mean(axis=0) - an * np.mean(dan * an, axis=0)) / np.sqrt(var + 1e-5)
        dW1 = X.T @ da + self.lam * self.model["W1"]
        db1 = da.sum(axis=0)
        return dict(W1=dW1, b1=db1, W2=dW2, b2=db2, gamma=dgamma, beta=dbeta)

    def _init_model(self, D, C, H):
        self.model = dict(
            W1=np.random.randn(D, H) / np.sqrt(D),
            b1=np.zeros((1, H)),
            W2=np.random.randn(H, C) / np.sqrt(H),
            b2=np.zeros((1, C)),
            gamma=np.ones((1, H)),
            beta=np.zeros((1, H)),
        )
'''

# style 2: one class, parameters as attributes, the loss returned first and the gradients keyed `dW1`
ATTRIBUTES = '''\
import numpy as np


class TanhRegressor:
    def __init__(self, n_in, n_hidden, n_out):
        self.W1 = 0.5 * np.random.randn(n_in, n_hidden)
        self.b1 = np.zeros(n_hidden)
        self.W2 = 0.5 * np.random.randn(n_hidden, n_out)
        self.b2 = np.zeros(n_out)

    def forward(self, X):
        z = X @ self.W1 + self.b1
        h = np.tanh(z)
        out = 1.0 / (1.0 + np.exp(-(h @ self.W2 + self.b2)))
        return out, (X, h)

    def backward(self, output, targets, cache):
        X, h = cache
        n = X.shape[0]
        dout = (output - targets) / n
        dW2 = h.T @ dout
        db2 = dout.sum(axis=0)
        dh = dout @ self.W2.T
        dz = dh * (1 - h ** 2)
        dW1 = X.T @ dz
        db1 = dz.sum(axis=0)
        return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}

    def compute_gradients(self, X, Y):
        out, cache = self.forward(X)
        eps = 1e-12
        cost = -np.mean(np.sum(Y * np.log(out + eps) + (1 - Y) * np.log(1 - out + eps), axis=1))
        grads = self.backward(out, Y, cache)
        return cost, grads
'''


def _verdicts(report: dict) -> dict[tuple[str, str], str]:
    return {(m["layer"], m["param"]): m["verdict"] for m in report["measurements"]}


def _built(report: dict) -> dict[str, dict]:
    return {b["what"]: b for b in report["built"]}


def test_a_model_checked_through_its_train_step(tmp_path):
    report = check(write(tmp_path, "nets.py", BASE))
    assert errors(report) == [], errors(report)
    verdicts = _verdicts(report)
    assert {p for (layer, p) in verdicts if layer == "NormedNet"} == {"W1", "b1", "W2", "b2", "gamma", "beta"}
    assert set(verdicts.values()) == {"ok"}
    built = _built(report)
    assert "train_step" in built["NormedNet"]["shapes"]
    assert "NotImplementedError" in built["Model"]["skipped"]
    assert "nothing-to-check" not in {f["name"] for f in report["findings"]}


def test_a_penalty_left_out_of_a_gradient_is_found_at_its_line(tmp_path):
    path = planted(tmp_path, "nets.py", BASE, 'dW1 = X.T @ da + self.lam * self.model["W1"]', "dW1 = X.T @ da")
    found = [f for f in errors(check(path)) if f["name"] == "gradient-mismatch"]
    assert [(f["layer"], f["param"], f["line"]) for f in found] == [("NormedNet", "W1", line_of(path, "dW1 = X.T @ da"))], found
    assert "less 0.01 × `W1`" in found[0]["message"] and "penalty" in found[0]["message"], found[0]["message"]


def test_a_wrong_batch_norm_gradient_is_found_at_its_line(tmp_path):
    path = planted(tmp_path, "nets.py", BASE, "dbeta = np.sum(dbn, axis=0)", "dbeta = np.sum(dh, axis=0)")
    found = [(f["layer"], f["line"]) for f in errors(check(path)) if f["name"] == "gradient-mismatch"]
    assert ("NormedNet", line_of(path, "dbeta = np.sum(dh")) in found, found


def test_a_model_whose_step_returns_the_loss_first_is_checked(tmp_path):
    report = check(write(tmp_path, "regressor.py", ATTRIBUTES))
    assert errors(report) == [], errors(report)
    assert _verdicts(report) == {("TanhRegressor", p): "ok" for p in ("W1", "b1", "W2", "b2")}


def test_a_wrong_activation_slope_in_that_model_is_found_at_its_line(tmp_path):
    path = planted(tmp_path, "regressor.py", ATTRIBUTES, "dz = dh * (1 - h ** 2)", "dz = dh * (1 - h)")
    found = [(f["layer"], f["line"]) for f in errors(check(path)) if f["name"] == "gradient-mismatch"]
    assert found and {line for _, line in found} == {line_of(path, "dz = dh * (1 - h)")}, found
