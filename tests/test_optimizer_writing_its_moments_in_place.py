"""An optimizer object that keeps its moments as arrays it overwrites in place (`m[...] = b1 * m +
(1 - b1) * g`), walking the parameters and the gradients together (`for p, g, m, v in zip(...)`),
handed a list of gradient arrays a functional `loss_and_grads(params, X, Y)` returns: the update
is read through the moment written in place back to `g`, and the step is replayed and judged."""

from tests.userfiles import check, errors, line_of, planted, replayed, write

ADAM = """
    import numpy as np


    class Adam:
        # 모멘트를 제자리에서 갱신한다
        def __init__(self, params, lr=1e-2, b1=0.9, b2=0.999, eps=1e-8):
            self.params = params
            self.lr, self.b1, self.b2, self.eps = lr, b1, b2, eps
            self.m = [np.zeros_like(p) for p in params]
            self.v = [np.zeros_like(p) for p in params]
            self.t = 0

        def step(self, grads):
            self.t += 1
            for p, g, m, v in zip(self.params, grads, self.m, self.v):
                m[...] = self.b1 * m + (1 - self.b1) * g
                v[...] = self.b2 * v + (1 - self.b2) * g * g
                m_hat = m / (1 - self.b1 ** self.t)
                v_hat = v / (1 - self.b2 ** self.t)
                p -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


    def loss_and_grads(params, X, Y):
        W1, b1, W2, b2 = params
        h = np.tanh(X @ W1 + b1)
        out = h @ W2 + b2
        err = out - Y
        loss = 0.5 * np.sum(err ** 2) / len(X)
        dout = err / len(X)
        dW2 = h.T @ dout
        dh = dout @ W2.T * (1 - h ** 2)
        return loss, [X.T @ dh, dh.sum(0), dW2, dout.sum(0)]


    if __name__ == "__main__":
        rng = np.random.default_rng(7)
        X = rng.normal(size=(300, 4))
        Y = np.sin(X @ rng.normal(size=(4, 2)))
        params = [rng.normal(0, 0.5, (4, 16)), np.zeros(16), rng.normal(0, 0.25, (16, 2)), np.zeros(2)]
        opt = Adam(params, lr=5e-3)
        for it in range(300):
            idx = rng.choice(300, 50, replace=False)
            loss, grads = loss_and_grads(params, X[idx], Y[idx])
            opt.step(grads)
            if it % 50 == 0:
                print(it, loss)
"""


def test_the_correct_program_is_replayed_and_clean(tmp_path):
    report = check(write(tmp_path, "adam_mlp.py", ADAM))
    assert errors(report) == [], errors(report)
    assert [p["wrong"] for p in replayed(report)["parameters"]] == [False] * 4, report["extras"]["replay"]


def test_a_wrong_gradient_in_the_list_is_named_at_its_line(tmp_path):
    path = planted(tmp_path, "adam_mlp.py", ADAM, "dh = dout @ W2.T * (1 - h ** 2)", "dh = dout @ W2.T * (1 - h)")
    found = errors(check(path))
    assert found and found[0]["code"] == "BPD108", found
    assert found[0]["line"] == line_of(path, "dh = dout @ W2.T * (1 - h)"), found
