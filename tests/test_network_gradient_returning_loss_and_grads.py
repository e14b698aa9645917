"""A book-style network whose `gradient(x, t)` returns `(loss, grads)` instead of the dict alone:
its gradients are the dict in that tuple (no "computes no gradient" for every parameter), and a
wrong layer gradient is still found."""

from tests.userfiles import check, errors, line_of, planted

NET = """
    from collections import OrderedDict

    import numpy as np


    class Affine:
        def __init__(self, W, b):
            self.W, self.b = W, b

        def forward(self, x):
            self.x = x
            return x @ self.W + self.b

        def backward(self, dout):
            self.dW = self.x.T @ dout
            self.db = dout.sum(axis=0)
            return dout @ self.W.T


    class Tanh:
        def forward(self, x):
            self.out = np.tanh(x)
            return self.out

        def backward(self, dout):
            return dout * (1 - self.out ** 2)


    class MeanSquared:
        def forward(self, y, t):
            self.y, self.t = y, t
            return 0.5 * np.mean(np.sum((y - t) ** 2, axis=1))

        def backward(self, dout=1):
            return dout * (self.y - self.t) / self.y.shape[0]


    class Net:
        def __init__(self, seed=0):
            rng = np.random.RandomState(seed)
            self.params = {"W1": rng.randn(3, 8) * 0.5, "b1": np.zeros(8), "W2": rng.randn(8, 1) * 0.5, "b2": np.zeros(1)}
            self.layers = OrderedDict()
            self.layers["Affine1"] = Affine(self.params["W1"], self.params["b1"])
            self.layers["Tanh1"] = Tanh()
            self.layers["Affine2"] = Affine(self.params["W2"], self.params["b2"])
            self.last = MeanSquared()

        def loss(self, x, t):
            for layer in self.layers.values():
                x = layer.forward(x)
            return self.last.forward(x, t)

        def gradient(self, x, t):
            loss = self.loss(x, t)
            dout = self.last.backward()
            for layer in reversed(list(self.layers.values())):
                dout = layer.backward(dout)
            grads = {"W1": self.layers["Affine1"].dW, "b1": self.layers["Affine1"].db,
                     "W2": self.layers["Affine2"].dW, "b2": self.layers["Affine2"].db}
            return loss, grads


    if __name__ == "__main__":
        rng = np.random.RandomState(1)
        x = rng.randn(64, 3)
        t = np.sin(x[:, :1]) - 0.5 * x[:, 1:2]
        net = Net()
        for i in range(200):
            loss, grads = net.gradient(x, t)
            for k in net.params:
                net.params[k] -= 0.1 * grads[k]
"""


def test_the_dict_in_the_returned_tuple_is_the_gradient(tmp_path):
    report = check(planted(tmp_path, "net.py", NET, "return dout * (1 - self.out ** 2)", "return dout * (1 - self.out ** 2)"))
    assert errors(report) == []
    assert {row["param"] for row in report["measurements"] if row["layer"] == "Net"} >= {"W1", "b1", "W2", "b2"}


def test_a_wrong_layer_gradient_is_still_found(tmp_path):
    path = planted(tmp_path, "net.py", NET, "return dout * (1 - self.out ** 2)", "return dout * (1 - self.out)")
    found = errors(check(path))
    assert found and {f["code"] for f in found} <= {"BPD101", "BPD108"}
    assert line_of(path, "return dout * (1 - self.out)") in {f["line"] for f in found}
    assert "BPD102" not in {f["code"] for f in found}
