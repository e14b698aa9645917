"""A backward that writes into the `dout` it receives: a note when it hands that array back.

The book's `Relu.backward` masks `dout` in place and returns it. Its caller rebinds `dout` to
what it gets back, so nothing else sees the change: a note (info), not a warning, on the book's
own correct network. A backward that writes into `dout` and returns another array has changed
the caller's gradient behind its back: a warning. And where a skip connection does read that
`dout` again, the network's gradient is wrong, which its own check reports as an error.
"""

from __future__ import annotations

from userfiles import check, line_of, write

LAYERS = """
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


    class Relu:
        def forward(self, x):
            self.mask = x <= 0
            out = x.copy()
            out[self.mask] = 0
            return out

        def backward(self, dout):
            dout[self.mask] = 0
            dx = dout
            return dx


    class SoftmaxWithLoss:
        def forward(self, x, t):
            self.t = t
            e = np.exp(x - x.max(axis=1, keepdims=True))
            self.y = e / e.sum(axis=1, keepdims=True)
            return -np.sum(t * np.log(self.y + 1e-7)) / len(x)

        def backward(self, dout=1):
            return (self.y - self.t) / len(self.t)
"""

CHAIN = (
    LAYERS
    + """

    class Net:
        def __init__(self):
            rng = np.random.default_rng(0)
            self.params = {"W1": rng.normal(0, 0.5, (4, 6)), "b1": np.zeros(6),
                           "W2": rng.normal(0, 0.5, (6, 3)), "b2": np.zeros(3)}
            self.layers = [Affine(self.params["W1"], self.params["b1"]), Relu(),
                           Affine(self.params["W2"], self.params["b2"])]
            self.last = SoftmaxWithLoss()

        def loss(self, x, t):
            for layer in self.layers:
                x = layer.forward(x)
            return self.last.forward(x, t)

        def gradient(self, x, t):
            self.loss(x, t)
            dout = self.last.backward(1)
            for layer in reversed(self.layers):
                dout = layer.backward(dout)
            a, c = self.layers[0], self.layers[2]
            return {"W1": a.dW, "b1": a.db, "W2": c.dW, "b2": c.db}


    rng = np.random.default_rng(1)
    X = rng.normal(size=(30, 4))
    T = np.eye(3)[(X[:, 0] > 0).astype(int) + (X[:, 1] > 0)]
    net = Net()
    for step in range(40):
        grads = net.gradient(X, T)
        for key in net.params:
            net.params[key] -= 0.5 * grads[key]
    print("final loss", net.loss(X, T))
"""
)


def test_the_books_relu_in_the_books_network_is_a_note_not_a_warning(tmp_path):
    path = write(tmp_path, "book_net.py", CHAIN)
    report = check(path)
    assert [f for f in report["findings"] if f["severity"] != "info"] == []
    (note,) = [f for f in report["findings"] if f["name"] == "upstream-grad-mutated"]
    assert (note["severity"], note["layer"], note["line"]) == ("info", "Relu", line_of(path, "dout[self.mask] = 0"))
    assert "hands that array back" in note["message"]


def test_a_backward_that_writes_into_dout_and_returns_another_array_is_a_warning(tmp_path):
    # the mask written into the caller's dout, the input gradient a new array made from it
    program = CHAIN.replace(
        "            dout[self.mask] = 0\n            dx = dout\n            return dx",
        "            dout[self.mask] = 0\n            dx = dout * 1.0\n            return dx",
    )
    assert program != CHAIN
    path = write(tmp_path, "copy_after.py", program)
    report = check(path)
    (found,) = [f for f in report["findings"] if f["name"] == "upstream-grad-mutated"]
    assert (found["severity"], found["line"]) == ("warning", line_of(path, "dout[self.mask] = 0"))


def test_a_skip_connection_that_reads_the_written_dout_again_is_a_wrong_network_gradient(tmp_path):
    # functions over a params dict: `h + relu(h)` reads the upstream gradient twice, and the
    # book's Relu masked it in place before the skip path read it
    program = (
        LAYERS
        + """

    relu = Relu()
    lin1, lin2 = Affine(None, None), Affine(None, None)
    head = SoftmaxWithLoss()


    def loss_and_grads(P, x, t):
        lin1.W, lin1.b, lin2.W, lin2.b = P["W1"], P["b1"], P["W2"], P["b2"]
        h = lin1.forward(x)
        r = h + relu.forward(h)
        loss = head.forward(lin2.forward(r), t)
        dr = lin2.backward(head.backward())
        dh = relu.backward(dr) + dr
        lin1.backward(dh)
        return loss, {"W1": lin1.dW, "b1": lin1.db, "W2": lin2.dW, "b2": lin2.db}


    rng = np.random.default_rng(2)
    P = {"W1": rng.normal(0, 0.5, (4, 6)), "b1": np.zeros(6), "W2": rng.normal(0, 0.5, (6, 3)), "b2": np.zeros(3)}
    X = rng.normal(size=(30, 4))
    T = np.eye(3)[(X[:, 0] > 0).astype(int) + (X[:, 1] > 0)]
    for step in range(40):
        loss, g = loss_and_grads(P, X, T)
        for key in P:
            P[key] -= 0.5 * g[key]
    print("final loss", loss)
"""
    )
    path = write(tmp_path, "skip.py", program)
    report = check(path)
    # named where the skip path reads the masked array again
    root = report["findings"][report["root_cause"]]
    assert (root["severity"], root["line"]) == ("error", line_of(path, "dh = relu.backward(dr) + dr"))
    # its twin, with the Relu copying first, is clean
    twin = program.replace("            dout[self.mask] = 0\n            dx = dout\n", "            dx = dout.copy()\n            dx[self.mask] = 0\n")
    assert twin != program
    clean = check(write(tmp_path / "twin", "skip.py", twin))
    assert [f for f in clean["findings"] if f["severity"] != "info"] == []
