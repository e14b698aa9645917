"""A linear classifier whose loss-and-gradient is a method handed the weights, and whose training
loop updates first and computes the next gradient at the end of each pass.

Course ports of cs231n's first assignment keep the loss as a method of the classifier class that
reads nothing of its instance, with the weights as its first argument and the regularisation
strength defaulted, the data under a name of their own:

    class LinearSVM(object):
        def get_loss_and_grad(self, W, batch_data, batch_labels, reg=1e-3):
            ...
            return loss, dW

It is the module-level `svm_loss_vectorized(W, X, y, reg)` written as a method: checked the same
way, its gradient against its own loss. Its training loop takes the first gradient before the loop
and the next one after each update, with weight decay written beside the step:

    loss, grad = self.get_loss_and_grad(self.W, data, labels, self.reg)
    while start < n:
        self.W = self.W - self.lr * grad - self.decay * self.W
        xb = data[start:start + self.batch]
        ...
        loss, grad = self.get_loss_and_grad(self.W, xb, yb, self.reg)

Read from the statements at its end that compute what the update reads, the pass is a whole step.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, step_verdicts, write

CLASSIFIER = """\
    import numpy as np


    class LinearSVM(object):
        def __init__(self, lr=0.05, reg=1e-3, decay=1e-4, batch=40):
            self.lr, self.reg, self.decay, self.batch = lr, reg, decay, batch
            self.W = None

        def train(self, data, labels, classes, passes=4):
            n = data.shape[0]
            self.W = 0.01 * np.random.randn(data.shape[1], classes)
            costs = []
            loss, grad = self.get_loss_and_grad(self.W, data, labels, self.reg)
            for sweep in range(passes):
                start = 0
                while start < n:
                    self.W = self.W - self.lr * grad - self.decay * self.W
                    xb = data[start:start + self.batch]
                    yb = labels[start:start + self.batch]
                    loss, grad = self.get_loss_and_grad(self.W, xb, yb, self.reg)
                    costs.append(loss)
                    start += self.batch
            return costs

        def get_loss_and_grad(self, W, batch_data, batch_labels, reg=1e-3):
            count = batch_data.shape[0]
            rows = np.arange(count)
            scores = batch_data.dot(W)
            margins = scores - scores[rows, batch_labels][:, None] + 1.0
            margins[rows, batch_labels] = 0.0
            margins = np.maximum(0.0, margins)
            loss = margins.sum() / count + 0.5 * reg * np.sum(W * W)
            active = (margins > 0).astype(float)
            active[rows, batch_labels] = -active.sum(axis=1)
            dW = batch_data.T.dot(active) / count + reg * W
            return loss, dW

        def predict(self, data):
            return np.argmax(data.dot(self.W), axis=1)


    def main():
        np.random.seed(7)
        data = np.random.randn(320, 10)
        labels = np.argmax(data[:, :3], axis=1)
        data = np.hstack([data, np.ones((len(data), 1))])
        svm = LinearSVM()
        costs = svm.train(data, labels, 3)
        print(costs[0], costs[-1], np.mean(svm.predict(data) == labels))


    if __name__ == "__main__":
        main()
"""


def _measured(report: dict, layer: str) -> dict[str, str]:
    return {m["param"]: m["verdict"] for m in report["measurements"] if m["layer"] == layer}


def test_a_loss_method_handed_the_weights_is_checked_and_clean(tmp_path):
    report = check(write(tmp_path, "linear_svm.py", CLASSIFIER))
    assert errors(report) == [], errors(report)
    assert _measured(report, "get_loss_and_grad") == {"W": "ok"}, report["measurements"]


def test_its_penalty_left_out_of_the_gradient_is_found(tmp_path):
    path = planted(tmp_path, "linear_svm.py", CLASSIFIER, " / count + reg * W", " / count")
    report = check(path)
    found = [f for f in errors(report) if f["code"] == "BPD101" and f["layer"] == "get_loss_and_grad"]
    assert found, report["findings"]
    assert "adds a penalty to the loss" in found[0]["message"], found[0]


def test_a_gradient_left_unaveraged_is_named_at_its_line(tmp_path):
    path = planted(tmp_path, "linear_svm.py", CLASSIFIER, "dW = batch_data.T.dot(active) / count", "dW = batch_data.T.dot(active) * count")
    report = check(path)
    found = [f for f in errors(report) if f["code"] == "BPD101" and f["layer"] == "get_loss_and_grad"]
    assert found, report["findings"]
    assert found[0]["line"] == line_of(path, "dW = batch_data.T.dot(active) * count"), found[0]


def test_the_update_first_loop_is_replayed_as_a_step(tmp_path):
    report = check(write(tmp_path, "linear_svm.py", CLASSIFIER))
    assert step_verdicts(report) == {"self.W": "ok"}, report["measurements"]


def test_a_flipped_update_before_the_decay_term_is_named_at_its_line(tmp_path):
    wrong = "self.W = self.W + self.lr * grad - self.decay * self.W"
    path = planted(tmp_path, "linear_svm.py", CLASSIFIER, "self.W = self.W - self.lr * grad - self.decay * self.W", wrong)
    (finding,) = [f for f in errors(check(path)) if f["code"] == "BPD108"]
    assert (finding["param"], finding["line"]) == ("self.W", line_of(path, wrong)), finding
    assert "subtract the step instead of adding it" in finding["message"]
