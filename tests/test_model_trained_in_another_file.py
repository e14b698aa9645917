"""An example script whose model trains in a class of another file of the user's.

A library written from scratch keeps its models in a package (`models/linear.py`, whose
`fit` runs the training loop) and its examples beside it (`examples/run_logistic.py`: build the
model, call `fit`, print the accuracy). The example defines nothing to check and runs no loop of
its own; the report says which class trains, in which method and file, and which file to check.
"""

from __future__ import annotations

from tests.userfiles import check, line_of, write

MODEL = """\
    import numpy as np


    class LogisticModel:
        def __init__(self, rate=0.1):
            self.rate = rate
            self.w = None

        def fit(self, X, y, passes=200):
            self.w = np.zeros(X.shape[1])
            for _ in range(passes):
                p = 1.0 / (1.0 + np.exp(-X.dot(self.w)))
                self.w -= self.rate * X.T.dot(p - y) / len(y)
            return self

        def predict(self, X):
            return (X.dot(self.w) > 0).astype(int)
"""

EXAMPLE = """\
    import numpy as np
    from models.linear import LogisticModel


    def main():
        np.random.seed(0)
        X = np.random.randn(120, 4)
        y = (X[:, 0] - X[:, 1] > 0).astype(int)
        model = LogisticModel(rate=0.5).fit(X, y)
        print(np.mean(model.predict(X) == y))


    if __name__ == "__main__":
        main()
"""


def test_the_report_names_the_class_that_trains_and_its_file(tmp_path):
    write(tmp_path, "models/__init__.py", "")
    model = write(tmp_path, "models/linear.py", MODEL)
    report = check(write(tmp_path, "examples/run_logistic.py", EXAMPLE))
    (nothing,) = [f for f in report["findings"] if f["code"] == "BPD007"]
    shown = "../models/linear.py"
    assert f"`LogisticModel`, which it uses, trains in its `fit` (the loop at line {line_of(model, 'for _ in range(passes)')} of {shown})" in nothing["message"], nothing
    assert f"run backprop-doctor on {shown}" in nothing["message"]


def test_the_model_file_itself_is_checked(tmp_path):
    model = write(tmp_path, "models/linear.py", MODEL)
    report = check(model)
    assert not [f for f in report["findings"] if f["code"] == "BPD007"], report["findings"]
    assert {m["param"] for m in report["measurements"] if m["layer"] == "training step"} == {"self.w"}
