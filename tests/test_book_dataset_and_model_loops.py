"""Programs of the book's chapters 6 and 7 as their readers run them:

- the book's own `dataset/mnist.py` sits beside the program but its `mnist.pkl` does not: its
  `load_mnist` would download MNIST, which the sandbox blocks; synthetic digits stand in;
- `MultiLayerNet(hidden_size_list=[...])` is built with a list of sizes;
- several networks trained in turn by one loop (`for key in networks: networks[key].gradient(...)`)
  are no single training step: no step error is made up from mixing them.
"""

from __future__ import annotations

from pathlib import Path

from tests.userfiles import check, errors, write

LOADER = '''\
import os
import pickle
import urllib.request

dataset_dir = os.path.dirname(os.path.abspath(__file__))
save_file = dataset_dir + "/mnist.pkl"


def load_mnist(normalize=True, flatten=True, one_hot_label=False):
    if not os.path.exists(save_file):
        urllib.request.urlretrieve("http://example.invalid/mnist.pkl", save_file)
    with open(save_file, "rb") as f:
        dataset = pickle.load(f)
    return (dataset["train_img"], dataset["train_label"]), (dataset["test_img"], dataset["test_label"])
'''

PROGRAM = '''\
import numpy as np
from dataset.mnist import load_mnist


class Net:
    def __init__(self, input_size, hidden_size_list, output_size):
        sizes = [input_size, *hidden_size_list, output_size]
        rng = np.random.default_rng(0)
        self.params = {}
        for i in range(1, len(sizes)):
            self.params[f"W{i}"] = rng.normal(size=(sizes[i - 1], sizes[i])) * 0.1
        self.depth = len(sizes) - 1

    def forward(self, x):
        self.hs = [x]
        for i in range(1, self.depth + 1):
            z = self.hs[-1] @ self.params[f"W{i}"]
            self.hs.append(np.tanh(z) if i < self.depth else z)
        s = self.hs[-1]
        e = np.exp(s - s.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def loss(self, x, t):
        return -np.mean(np.log(self.forward(x)[np.arange(len(t)), t] + 1e-7))

    def gradient(self, x, t):
        y = self.forward(x)
        d = y.copy()
        d[np.arange(len(t)), t] -= 1
        d /= len(t)
        grads = {}
        for i in range(self.depth, 0, -1):
            grads[f"W{i}"] = self.hs[i - 1].T @ d
            d = d @ self.params[f"W{i}"].T
            if i > 1:
                d *= 1 - self.hs[i - 1] ** 2
        return grads


(x_train, t_train), _ = load_mnist(normalize=True)
networks = {"small": Net(784, [20, 20], 10), "wide": Net(784, [40], 10)}
for step in range(30):
    mask = np.random.choice(len(x_train), 32)
    for key in networks:
        grads = networks[key].gradient(x_train[mask], t_train[mask])
        for name in grads:
            networks[key].params[name] -= 0.1 * grads[name]
        loss = networks[key].loss(x_train[mask], t_train[mask])
'''


def _layout(tmp_path: Path) -> Path:
    (tmp_path / "dataset").mkdir()
    (tmp_path / "dataset" / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "dataset" / "mnist.py").write_text(LOADER, encoding="utf-8")
    return write(tmp_path, "compare.py", PROGRAM)


def test_the_books_own_loader_without_its_data_file_reads_synthetic_digits(tmp_path):
    report = check(_layout(tmp_path))
    names = {f["name"] for f in report["findings"]}
    assert "sandbox-blocked" not in names
    (synthetic,) = [f for f in report["findings"] if f["name"] == "synthetic-data"]
    assert "load_mnist" in synthetic["message"]
    assert not (tmp_path / "dataset" / "mnist.pkl").exists()


def test_networks_trained_in_turn_get_no_made_up_step_error_and_are_built_with_size_lists(tmp_path):
    report = check(_layout(tmp_path))
    assert errors(report) == []
    assert not report["extras"].get("replay")
    built = [b for b in report["built"] if b.get("name", b.get("what", "")).startswith("Net")] or report["built"]
    assert any("hidden_size_list=[" in str(b) for b in built)


def test_a_size_list_argument_is_inferred_as_a_list_of_sizes():
    import numpy as np

    from backprop_doctor.build import infer_kwargs

    class MultiLayer:
        def __init__(self, input_size, hidden_size_list, output_size, weight_init_std="relu", config={"a": 1}):  # noqa: B006
            self.sizes = [input_size, *hidden_size_list, output_size]

    kwargs = infer_kwargs(MultiLayer, np.random.default_rng(0))
    assert isinstance(kwargs["hidden_size_list"], list) and all(isinstance(n, int) for n in kwargs["hidden_size_list"])
    assert kwargs["weight_init_std"] == "relu" and kwargs["config"] == {"a": 1}  # a dict default is kept, not hashed
    MultiLayer(**kwargs)


def test_size_arguments_spelled_many_ways_are_inferred():
    import inspect

    import numpy as np

    from backprop_doctor.build import CLASSES, _value_for

    def value(name):
        return _value_for(name, "Net", inspect.Parameter.empty, np.random.default_rng(0), {})

    assert [value(n) for n in ("input_units", "sizeIn", "number_of_inputs", "num_inputs")] == [12] * 4
    assert [value(n) for n in ("output_num", "out_features", "n_outputs")] == [CLASSES] * 3
    assert [value(n) for n in ("n_hidden_units", "hidden_nodes")] == [8, 8]
