"""A training loop whose backward and update functions live in another file of the user's.

`train.py` imports `backward` and `update` from `nn_utils.py` beside it. Its loop calls them, so
the updates the replay must watch are in the other file: they are found there, read where they
run, and a wrong one is named in the file and at the line where it is written.
"""

from __future__ import annotations

from pathlib import Path

from tests.userfiles import check, errors, line_of, replayed, write

UTILS = '''\
import numpy as np


def init(n_in, n_h, n_out):
    rng = np.random.default_rng(0)
    return {"W1": rng.standard_normal((n_in, n_h)) * 0.5, "b1": np.zeros(n_h),
            "W2": rng.standard_normal((n_h, n_out)) * 0.5, "b2": np.zeros(n_out)}


def forward(X, params):
    h = np.tanh(X @ params["W1"] + params["b1"])
    return h @ params["W2"] + params["b2"], h


def backward(X, y, out, h, params):
    dout = 2 * (out - y) / len(X)
    grads = {"W2": h.T @ dout, "b2": dout.sum(axis=0)}
    dh = dout @ params["W2"].T * (1 - h ** 2)
    grads["W1"] = X.T @ dh
    grads["b1"] = dh.sum(axis=0)
    return grads


def update(params, grads, lr):
    for name in params:
        params[name] -= lr * grads[name]
    return params
'''

TRAIN = '''\
import numpy as np
from nn_utils import init, forward, backward, update

rng = np.random.default_rng(1)
X = rng.standard_normal((100, 4))
y = np.sin(X.sum(axis=1, keepdims=True))
params = init(4, 8, 1)
for step in range(300):
    out, h = forward(X, params)
    loss = np.mean((out - y) ** 2)
    grads = backward(X, y, out, h, params)
    params = update(params, grads, 0.05)
'''

NAMES = {"params['W1']", "params['b1']", "params['W2']", "params['b2']"}


def _project(folder: Path, utils: str = UTILS, train: str = TRAIN) -> tuple[Path, Path]:
    return write(folder, "train.py", train), write(folder, "nn_utils.py", utils)


def test_the_updates_in_the_imported_file_are_replayed_and_the_correct_program_is_clean(tmp_path):
    train, _utils = _project(tmp_path)
    report = check(train)
    assert errors(report) == []
    assert {p["name"]: p["wrong"] for p in replayed(report)["parameters"]} == dict.fromkeys(NAMES, False)


def test_a_flipped_update_in_the_imported_file_is_named_there(tmp_path):
    train, utils = _project(tmp_path, UTILS.replace("params[name] -= lr", "params[name] += lr"))
    (finding,) = errors(check(train))
    assert (finding["code"], Path(finding["file"]).name, finding["line"]) == ("BPD108", "nn_utils.py", line_of(utils, "params[name] += lr"))
    assert "(nn_utils.py line " in finding["message"]


def test_a_wrong_gradient_entry_in_the_imported_backward_is_named_where_it_is_set(tmp_path):
    train, utils = _project(tmp_path, UTILS.replace('grads["b1"] = dh.sum(axis=0)', 'grads["b1"] = dh.sum(axis=0) * 3'))
    (finding,) = errors(check(train))
    line = line_of(utils, 'grads["b1"] = dh.sum')
    assert (Path(finding["file"]).name, finding["line"], finding["param"]) == ("nn_utils.py", line, "params['b1']")
    assert f"computed at nn_utils.py line {line}" in finding["message"]
    assert "3 × the gradient" in finding["message"]


def test_a_module_imported_under_another_name_is_followed_too(tmp_path):
    train_text = TRAIN.replace("from nn_utils import init, forward, backward, update", "import nn_utils as nu")
    for name in ("init", "forward", "backward", "update"):
        train_text = train_text.replace(f"{name}(", f"nu.{name}(")
    train, utils = _project(tmp_path, UTILS.replace("params[name] -= lr", "params[name] += lr"), train_text)
    (finding,) = errors(check(train))
    assert (Path(finding["file"]).name, finding["line"]) == ("nn_utils.py", line_of(utils, "params[name] += lr"))


def test_the_users_files_are_left_as_they_were(tmp_path):
    train, utils = _project(tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    check(train)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


OPTIMIZER = '''\
class SGD:
    def __init__(self, lr=0.01):
        self.lr = lr

    def update(self, params, grads):
        for key in params.keys():
            params[key] -= self.lr * grads[key]
'''

CHAPTER_SCRIPT = '''\
import os
import sys

sys.path.append(os.pardir)
import numpy as np
from common.optimizer import SGD

rng = np.random.default_rng(3)
x = rng.standard_normal((50, 3))
t = x @ np.array([[0.5], [-1.0], [2.0]])
params = {"W": rng.standard_normal((3, 1)) * 0.1, "b": np.zeros(1)}
optimizer = SGD(lr=0.1)
for i in range(100):
    y = x @ params["W"] + params["b"]
    loss = 0.5 * np.mean(np.sum((y - t) ** 2, axis=1))
    dy = (y - t) / len(x)
    grads = {"W": x.T @ dy, "b": dy.sum(axis=0)}
    optimizer.update(params, grads)
'''


def test_an_optimizer_class_imported_from_the_books_common_folder_is_followed(tmp_path):
    """The book's chapter scripts add the parent folder to `sys.path` and import `common.optimizer`."""
    (tmp_path / "common").mkdir()
    write(tmp_path / "common", "__init__.py", "")
    clean = write(tmp_path / "ch06", "train.py", CHAPTER_SCRIPT)
    write(tmp_path / "common", "optimizer.py", OPTIMIZER)
    report = check(clean)
    assert errors(report) == []
    assert {p["name"]: p["wrong"] for p in replayed(report)["parameters"]} == {"params['W']": False, "params['b']": False}
    optimizer = write(tmp_path / "common", "optimizer.py", OPTIMIZER.replace("params[key] -= self.lr", "params[key] += self.lr"))
    (finding,) = errors(check(clean))
    assert (Path(finding["file"]).name, finding["line"]) == ("optimizer.py", line_of(optimizer, "params[key] += self.lr"))


def test_a_dictionarys_update_is_not_taken_for_the_imported_optimizers(tmp_path):
    """`counts.update(words)` in a vocabulary loop calls `dict.update`, not `SGD.update`: only the loop
    that calls it on the optimizer (`optimizer = SGD(...)`) is a training loop."""
    import ast

    from backprop_doctor.static.imports import user_functions
    from backprop_doctor.static.steps import training_steps

    (tmp_path / "common").mkdir()
    write(tmp_path / "common", "__init__.py", "")
    write(tmp_path / "common", "optimizer.py", OPTIMIZER)
    text = CHAPTER_SCRIPT.replace(
        "optimizer = SGD(lr=0.1)\n",
        "counts = {}\nfor word in ['a', 'b', 'a']:\n    counts.update({word: counts.get(word, 0) + 1})\noptimizer = SGD(lr=0.1)\n",
    )
    script = write(tmp_path / "ch06", "train.py", text)
    tree = ast.parse(text)
    steps = training_steps(tree, user_functions(tree, str(script)))
    assert [s.loop_line for s in steps] == [line_of(script, "for i in range(100):")]
    assert errors(check(script)) == []
