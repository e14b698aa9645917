"""A training script with `params`/`grads` dicts whose update is a call of its own optimizer class
(`opt.update(params, grads)`, an Adam in the book's chapter-6 style): the step is replayed with
`grads[key]` as the gradient of `params[key]`, the gradient's line is the loop's own
`grads["W1"] = ...`, and a ReLU's derivative left out of it is named at the adjoint."""

from tests.userfiles import check, errors, line_of, planted, replayed

PROGRAM = """
    import numpy as np


    class Adam:
        def __init__(self, lr=0.01, beta1=0.9, beta2=0.999):
            self.lr, self.beta1, self.beta2 = lr, beta1, beta2
            self.iter = 0
            self.m = None
            self.v = None

        def update(self, params, grads):
            if self.m is None:
                self.m = {key: np.zeros_like(val) for key, val in params.items()}
                self.v = {key: np.zeros_like(val) for key, val in params.items()}
            self.iter += 1
            for key in params.keys():
                self.m[key] = self.beta1 * self.m[key] + (1 - self.beta1) * grads[key]
                self.v[key] = self.beta2 * self.v[key] + (1 - self.beta2) * grads[key] ** 2
                m_hat = self.m[key] / (1 - self.beta1 ** self.iter)
                v_hat = self.v[key] / (1 - self.beta2 ** self.iter)
                params[key] -= self.lr * m_hat / (np.sqrt(v_hat) + 1e-7)


    np.random.seed(0)
    X = np.random.randn(120, 2)
    t = (X[:, 0] * X[:, 1] > 0).astype(int)
    T = np.eye(2)[t]
    params = {"W1": np.random.randn(2, 16) * 0.5, "b1": np.zeros(16), "W2": np.random.randn(16, 2) * 0.5, "b2": np.zeros(2)}
    opt = Adam(lr=0.01)
    for i in range(200):
        h = np.maximum(0, X @ params["W1"] + params["b1"])
        s = h @ params["W2"] + params["b2"]
        s -= s.max(axis=1, keepdims=True)
        p = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
        loss = -np.mean(np.log(p[np.arange(len(t)), t]))
        ds = (p - T) / len(X)
        grads = {"W2": h.T @ ds, "b2": ds.sum(0)}
        dh = ds @ params["W2"].T
        dh[h <= 0] = 0
        grads["W1"] = X.T @ dh
        grads["b1"] = dh.sum(0)
        opt.update(params, grads)
"""


def test_the_correct_script_is_replayed_through_its_optimizer_and_clean(tmp_path):
    report = check(planted(tmp_path, "train.py", PROGRAM, "dh[h <= 0] = 0", "dh[h <= 0] = 0"))
    assert errors(report) == []
    step = replayed(report)
    assert {m["name"] for m in step["parameters"]} == {"params['W1']", "params['b1']", "params['W2']", "params['b2']"}
    assert not any(m["wrong"] or m["unused"] for m in step["parameters"]), step["parameters"]


def test_a_relu_mask_left_out_is_named_at_the_adjoint(tmp_path):
    path = planted(tmp_path, "train.py", PROGRAM, "    dh[h <= 0] = 0\n", "")
    found = errors(check(path))
    assert {f["code"] for f in found} == {"BPD108"}
    first = found[0]
    assert first["pattern"] == "missing-activation-derivative", first
    assert first["line"] == line_of(path, "dh = ds @")
    assert "multiply `dh` by `(h > 0)`" in first["message"]
    assert line_of(path, 'grads["W1"] = X.T @ dh') in first["highlight"]


def test_a_gradient_off_by_the_batch_size_is_found_at_its_entry(tmp_path):
    path = planted(tmp_path, "train.py", PROGRAM, 'grads["W1"] = X.T @ dh', 'grads["W1"] = X.T @ dh * len(X)')
    found = errors(check(path))
    assert [(f["code"], f["param"]) for f in found][:1] == [("BPD108", "params['W1']")], found
    assert found[0]["line"] == line_of(path, 'grads["W1"] = X.T @ dh')
