"""Optimizer classes handed the parameters when made (`opt = RMSProp(net.parameters(), lr=1e-2)`) and
stepped with the gradients alone (`opt.step(grads)`), the way PyTorch spells it: their update is run on
fresh arrays like a book-style `update(params, grads)`, so a rule that is not the one its name
promises (a square not rooted, a sign turned) is told at its line."""

from tests.userfiles import check, errors, planted, write

PROGRAM = """
    import numpy as np

    np.random.seed(4)


    class RMSProp:
        def __init__(self, params, lr=1e-3, rho=0.9, eps=1e-8):
            self.params, self.lr, self.rho, self.eps = params, lr, rho, eps
            self.sq = [np.zeros_like(p) for p in params]

        def step(self, grads):
            for p, g, s in zip(self.params, grads, self.sq):
                s *= self.rho
                s += (1 - self.rho) * g * g
                p -= self.lr * g / (np.sqrt(s) + self.eps)


    class Linear:
        def __init__(self, d):
            self.w = np.random.randn(d) * 0.1
            self.b = np.zeros(1)

        def parameters(self):
            return [self.w, self.b]

        def loss(self, X, y):
            r = X @ self.w + self.b - y
            return np.mean(r ** 2), [2 * X.T @ r / len(y), np.array([2 * r.mean()])]


    X = np.random.randn(400, 5)
    y = X @ np.array([1.0, -1.0, 0.5, 0.0, 2.0]) + 0.3
    model = Linear(5)
    opt = RMSProp(model.parameters(), lr=1e-2)
    for epoch in range(300):
        loss, grads = model.loss(X, y)
        opt.step(grads)
        if epoch % 50 == 0:
            print(epoch, loss)
"""


def test_a_correct_rmsprop_is_clean(tmp_path):
    report = check(write(tmp_path, "rms.py", PROGRAM))
    assert errors(report) == [], errors(report)
    assert any(b["what"] == "RMSProp" and "step(grads)" in b["how"] for b in report["built"]), report["built"]


def test_a_square_left_unrooted_is_told(tmp_path):
    path = planted(tmp_path, "rms.py", PROGRAM, "(np.sqrt(s) + self.eps)", "(s + self.eps)")
    found = errors(check(path))
    assert [f["code"] for f in found] == ["BPD208"], found
    assert "RMSProp" in found[0]["message"], found[0]["message"]
