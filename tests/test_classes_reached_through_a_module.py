"""A network class of the user's own module, reached through the module (`import twonet` then
`twonet.TwoLayerNet(...)`, `from chapter import twonet`, `import chapter.twonet`), is found as if
the file imported it by name: checked on what the program fed it, its wrong analytic gradient
measured although the program trains with the numerical one. A class of that module the program
never names is not checked, and neither is a library's."""

from __future__ import annotations

from tests.userfiles import check, errors, planted, write

TWONET = """\
import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def softmax(a):
    a = a - a.max(axis=1, keepdims=True)
    e = np.exp(a)
    return e / e.sum(axis=1, keepdims=True)


class TwoLayerNet:
    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.1):
        self.params = {}
        self.params['W1'] = weight_init_std * np.random.randn(input_size, hidden_size)
        self.params['b1'] = np.zeros(hidden_size)
        self.params['W2'] = weight_init_std * np.random.randn(hidden_size, output_size)
        self.params['b2'] = np.zeros(output_size)

    def predict(self, x):
        z1 = sigmoid(np.dot(x, self.params['W1']) + self.params['b1'])
        return softmax(np.dot(z1, self.params['W2']) + self.params['b2'])

    def loss(self, x, t):
        y = self.predict(x)
        return -np.sum(t * np.log(y + 1e-7)) / x.shape[0]

    def numerical_gradient(self, x, t):
        grads = {}
        for key, p in self.params.items():
            g = np.zeros_like(p)
            for i in np.ndindex(p.shape):
                old = p[i]
                p[i] = old + 1e-4
                up = self.loss(x, t)
                p[i] = old - 1e-4
                down = self.loss(x, t)
                p[i] = old
                g[i] = (up - down) / 2e-4
            grads[key] = g
        return grads

    def gradient(self, x, t):
        W1, W2 = self.params['W1'], self.params['W2']
        z1 = sigmoid(np.dot(x, W1) + self.params['b1'])
        y = softmax(np.dot(z1, W2) + self.params['b2'])
        dy = (y - t) / x.shape[0]
        grads = {}
        grads['W2'] = np.dot(z1.T, dy)
        grads['b2'] = np.sum(dy, axis=0)
        dz1 = np.dot(dy, W2.T) * z1 * (1 - z1)
        grads['W1'] = np.dot(x.T, dz1)
        grads['b1'] = np.sum(dz1, axis=0)
        return grads


class UnusedNet(TwoLayerNet):
    pass
"""

WRONG = ("dz1 = np.dot(dy, W2.T) * z1 * (1 - z1)", "dz1 = np.dot(dy, W2.T) * z1")

# The book's ch04 way: train with the slow numerical gradient, never with the analytic one.
TRAIN = """\
import numpy as np
{imports}

np.random.seed(0)
x_train = np.random.randn(60, 5)
t_train = np.eye(3)[np.random.randint(0, 3, 60)]
network = {build}(input_size=5, hidden_size=4, output_size=3)
for i in range(3):
    mask = np.random.choice(60, 10)
    grad = network.numerical_gradient(x_train[mask], t_train[mask])
    for key in ('W1', 'b1', 'W2', 'b2'):
        network.params[key] -= 0.1 * grad[key]
    print(network.loss(x_train, t_train))
"""


def _checked(report: dict) -> set[str]:
    return {m["layer"] for m in report["measurements"]}


def test_a_class_reached_through_an_imported_module_is_checked(tmp_path):
    write(tmp_path, "twonet.py", TWONET)
    main = write(tmp_path, "train.py", TRAIN.format(imports="import twonet", build="twonet.TwoLayerNet"))
    report = check(main)
    assert "TwoLayerNet" in _checked(report), report["findings"]
    assert "UnusedNet" not in _checked(report)
    assert not [f for f in report["findings"] if f["code"] == "BPD007"]
    assert not errors(report)


def test_the_same_file_importing_the_class_by_name_gets_the_same_checks(tmp_path):
    write(tmp_path, "twonet.py", TWONET)
    by_module = check(write(tmp_path, "a.py", TRAIN.format(imports="import twonet", build="twonet.TwoLayerNet")))
    by_name = check(write(tmp_path, "b.py", TRAIN.format(imports="from twonet import TwoLayerNet", build="TwoLayerNet")))
    assert {(m["layer"], m["param"]) for m in by_module["measurements"]} == {(m["layer"], m["param"]) for m in by_name["measurements"]}


def test_a_wrong_gradient_of_a_class_reached_through_a_module_is_reported(tmp_path):
    planted(tmp_path, "twonet.py", TWONET, *WRONG)
    main = write(tmp_path, "train.py", TRAIN.format(imports="import twonet as tn", build="tn.TwoLayerNet"))
    report = check(main)
    wrong = {m["param"] for m in report["measurements"] if m["layer"] == "TwoLayerNet" and m["verdict"] != "ok"}
    assert {"W1", "b1"} <= wrong, report["measurements"]
    # the program trains with the numerical gradient: the wrong analytic one is a note, as it is
    # for the class imported by name
    assert "BPD101" in {f["code"] for f in report["findings"]}


def test_a_module_of_the_users_package_is_followed_from_the_package(tmp_path):
    """`from chapter import twonet` (a folder beside the file, no `__init__.py`), and the dotted
    `import chapter.twonet` then `chapter.twonet.TwoLayerNet(...)`."""
    write(tmp_path, "chapter/twonet.py", TWONET)
    for imports, build in (("from chapter import twonet", "twonet.TwoLayerNet"), ("import chapter.twonet", "chapter.twonet.TwoLayerNet")):
        report = check(write(tmp_path, "train.py", TRAIN.format(imports=imports, build=build)))
        assert "TwoLayerNet" in _checked(report), (imports, report["findings"])


def test_a_library_class_reached_through_its_module_is_not_checked(tmp_path):
    """`collections.OrderedDict` or `np.random.RandomState` are classes reached through a module too,
    of a library: the file below has nothing of its own to check."""
    main = write(tmp_path, "lib.py", """\
        import collections
        import numpy as np

        rng = np.random.RandomState(0)
        table = collections.OrderedDict(a=rng.randn(3))
        print(table)
    """)
    report = check(main)
    assert report["measurements"] == []
    assert [f["code"] for f in report["findings"] if f["code"] == "BPD007"] == ["BPD007"]
