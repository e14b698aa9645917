"""A course's package kept flattened in one folder.

cs231n's classifiers import their losses from the package the course ships
(`from cs231n.classifiers.linear_svm import *`); people who keep their solutions in one folder
have that module beside the file as `linear_svm.py`, and no `cs231n` package at all. The missing
package gets a stand-in, and its module is the file beside the importing one that it is named
after, when that file defines what the statement imports: a file of definitions for `*`, every
name for `from ... import a, b`. A script that happens to have the name is never run in its place.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, step_verdicts, write

LOSSES = """\
    import numpy as np


    def hinge_loss_vectorized(W, X, y, reg):
        n = X.shape[0]
        rows = np.arange(n)
        scores = X.dot(W)
        margins = np.maximum(0.0, scores - scores[rows, y][:, None] + 1.0)
        margins[rows, y] = 0.0
        loss = margins.sum() / n + reg * np.sum(W * W)
        active = (margins > 0).astype(float)
        active[rows, y] = -active.sum(axis=1)
        dW = X.T.dot(active) / n + 2 * reg * W
        return loss, dW
"""

CLASSIFIER = """\
    import numpy as np
    from coursework.classifiers.hinge_losses import *


    class LinearClassifier(object):
        def __init__(self):
            self.W = None

        def train(self, X, y, learning_rate=0.1, reg=1e-3, num_iters=60, batch_size=32):
            count, dim = X.shape
            if self.W is None:
                self.W = 0.01 * np.random.randn(dim, int(np.max(y)) + 1)
            history = []
            for it in range(num_iters):
                picked = np.random.choice(count, batch_size)
                loss, grad = self.loss(X[picked], y[picked], reg)
                history.append(loss)
                self.W -= learning_rate * grad
            return history

        def loss(self, X_batch, y_batch, reg):
            pass


    class LinearSVM(LinearClassifier):
        def loss(self, X_batch, y_batch, reg):
            return hinge_loss_vectorized(self.W, X_batch, y_batch, reg)


    np.random.seed(2)
    X = np.random.randn(200, 8)
    y = np.argmax(X[:, :3], axis=1)
    history = LinearSVM().train(X, y)
    print(history[0], history[-1])
"""

# a script of the same name: it trains something of its own when imported, and defines no loss
SCRIPT = """\
    import numpy as np

    W = np.zeros((3, 3))
    for step in range(10):
        W += 0.1
    print(W.sum())
"""


def test_the_flattened_module_is_imported_and_checked(tmp_path):
    write(tmp_path, "hinge_losses.py", LOSSES)
    report = check(write(tmp_path, "linear_classifier.py", CLASSIFIER))
    assert errors(report) == [], errors(report)
    assert not [f for f in report["findings"] if f["code"] == "BPD003"], report["findings"]
    assert {m["layer"] for m in report["measurements"]} >= {"hinge_loss_vectorized", "training step"}, report["measurements"]
    assert step_verdicts(report) == {"self.W": "ok"}


def test_a_wrong_gradient_in_the_flattened_module_is_named_there(tmp_path):
    losses = planted(tmp_path, "hinge_losses.py", LOSSES, "dW = X.T.dot(active) / n + 2 * reg * W", "dW = X.T.dot(active) / n + reg * W")
    report = check(write(tmp_path, "linear_classifier.py", CLASSIFIER))
    found = [f for f in errors(report) if f["code"] == "BPD101" and f["layer"] == "hinge_loss_vectorized"]
    assert found, report["findings"]
    assert found[0]["file"].endswith("hinge_losses.py") and found[0]["line"] == line_of(losses, "dW = X.T.dot(active)"), found[0]


def test_a_script_of_that_name_is_not_run_in_the_modules_place(tmp_path):
    write(tmp_path, "hinge_losses.py", SCRIPT)
    report = check(write(tmp_path, "linear_classifier.py", CLASSIFIER))
    missing = [f["message"] for f in report["findings"] if f["code"] == "BPD003"]
    assert any("`coursework.classifiers.hinge_losses`" in m for m in missing), report["findings"]


def test_named_imports_need_every_name_defined_there(tmp_path):
    write(tmp_path, "hinge_losses.py", LOSSES)
    asked = CLASSIFIER.replace("import *", "import hinge_loss_vectorized, softmax_loss_vectorized")
    report = check(write(tmp_path, "linear_classifier.py", asked))
    missing = [f["message"] for f in report["findings"] if f["code"] == "BPD003"]
    assert any("`coursework.classifiers.hinge_losses`" in m for m in missing), report["findings"]
    only = CLASSIFIER.replace("import *", "import hinge_loss_vectorized")
    assert errors(check(write(tmp_path, "linear_classifier.py", only))) == []
    assert not [f for f in check(write(tmp_path, "linear_classifier.py", only))["findings"] if f["code"] == "BPD003"]
