"""A model whose `loss_and_grads(x, y, weight_decay)` returns the loss and a dict of gradients.

The cs231n classifiers' `loss(X, y, reg)` under another name, in a course's own script: the model
keeps `self.params`, takes its activation's name and a seed in its constructor, and makes its
weights float32. It is built with guessed arguments, checked in float64 (float32 weights perturbed
by finite differences round the step away and gave a false mismatch), with the weight decay at 0.1.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

MODEL = """\
    import numpy as np

    class MLP:
        def __init__(self, input_dim, hidden_dims, output_dim, activation, seed):
            if activation not in {"relu", "tanh"}:
                raise ValueError(activation)
            self.activation = activation
            rng = np.random.default_rng(seed)
            dims = [input_dim] + list(hidden_dims) + [output_dim]
            self.params = {}
            for i in range(len(dims) - 1):
                self.params[f"W{i + 1}"] = (rng.normal(size=(dims[i], dims[i + 1])) * np.sqrt(2 / dims[i])).astype(np.float32)
                self.params[f"b{i + 1}"] = np.zeros((1, dims[i + 1]), dtype=np.float32)

        def forward(self, x):
            caches, a = [], x
            n = len(self.params) // 2
            for i in range(1, n):
                z = a @ self.params[f"W{i}"] + self.params[f"b{i}"]
                nxt = np.maximum(z, 0) if self.activation == "relu" else np.tanh(z)
                caches.append((a, z, nxt))
                a = nxt
            logits = a @ self.params[f"W{n}"] + self.params[f"b{n}"]
            caches.append((a, logits, logits))
            return logits, caches

        def loss_and_grads(self, x, y, weight_decay):
            logits, caches = self.forward(x)
            shifted = logits - logits.max(axis=1, keepdims=True)
            probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
            n = x.shape[0]
            loss = -np.log(probs[np.arange(n), y]).mean()
            loss += sum(0.5 * weight_decay * np.sum(v * v) for k, v in self.params.items() if k.startswith("W"))
            dout = probs
            dout[np.arange(n), y] -= 1.0
            dout /= n
            grads = {}
            layers = len(self.params) // 2
            for i in range(layers, 0, -1):
                a_prev, z, a = caches[i - 1]
                grads[f"W{i}"] = a_prev.T @ dout + weight_decay * self.params[f"W{i}"]
                grads[f"b{i}"] = dout.sum(axis=0, keepdims=True)
                if i > 1:
                    prev_z = caches[i - 2][1]
                    dout = (dout @ self.params[f"W{i}"].T) * (prev_z > 0)
            return float(loss), grads
"""


def test_the_model_is_built_from_guessed_arguments_and_checked_clean(tmp_path):
    report = check(write(tmp_path, "train.py", MODEL))
    assert [f for f in report["findings"] if f["severity"] != "info"] == []  # no false mismatch, no dtype warning
    (built,) = report["built"]
    assert built["shapes"].endswith("weight_decay 0.1")
    assert {m["verdict"] for m in report["measurements"] if m["layer"] == "MLP"} == {"ok"}


def test_a_decay_left_out_of_one_gradient_is_found_at_its_line(tmp_path):
    path = planted(tmp_path, "train.py", MODEL, 'grads[f"W{i}"] = a_prev.T @ dout + weight_decay * self.params[f"W{i}"]', 'grads[f"W{i}"] = a_prev.T @ dout')
    found = errors(check(path))
    assert {f["param"] for f in found} == {"W1", "W2", "W3"}  # hidden_dims built as [8, 6]: three weight matrices
    assert {f["line"] for f in found} == {line_of(path, 'grads[f"W{i}"] = a_prev.T @ dout')}
