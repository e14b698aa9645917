"""A softmax classifier trained one sample at a time that computes no loss and starts its backward
from the probabilities with 1 taken off at the sample's label (`g = p.copy(); g[label] -= 1`): the
cross-entropy of that one sample is its loss, so the step is replayed (it was "nothing checked"),
and what the training loop does with the data (a class-sorted order never shuffled) can be told."""

from __future__ import annotations

from pathlib import Path

from tests.userfiles import check, errors, line_of, planted

# one sample per step, the samples stored class after class
PROGRAM = """\
    import numpy as np

    gen = np.random.default_rng(12)
    means = gen.normal(0, 1.5, (3, 5))
    features = np.vstack([m + gen.normal(size=(150, 5)) for m in means])
    labels = np.repeat(np.arange(3), 150)

    weights = np.zeros((5, 3))
    bias = np.zeros(3)
    step = 0.05


    def predict(v):
        z = v @ weights + bias
        z = z - z.max()
        return np.exp(z) / np.exp(z).sum()


    for epoch in range(10):
        visit = gen.permutation(len(features))
        for j in visit:
            v, label = features[j], labels[j]
            prob = predict(v)
            delta = prob.copy()
            delta[label] -= 1
            weights -= step * np.outer(v, delta)
            bias -= step * delta
"""


def test_a_right_one_sample_step_is_replayed_and_right(tmp_path: Path) -> None:
    report = check(planted(tmp_path, "online.py", PROGRAM, "import numpy as np", "import numpy as np"))
    assert errors(report) == []
    verdicts = {m["param"]: m["verdict"] for m in report["measurements"] if m["layer"] == "training step"}
    assert verdicts == {"weights": "ok", "bias": "ok"}


def test_a_wrong_one_sample_gradient_is_named(tmp_path: Path) -> None:
    path = planted(tmp_path, "online.py", PROGRAM, "weights -= step * np.outer(v, delta)", "weights -= step * np.outer(v, prob)")
    report = check(path)
    first = errors(report)[0]
    assert first["param"] == "weights" and first["line"] == line_of(path, "weights -= step * np.outer(v, prob)"), first


def test_class_sorted_samples_never_shuffled_are_named(tmp_path: Path) -> None:
    path = planted(tmp_path, "online.py", PROGRAM, "visit = gen.permutation(len(features))", "visit = np.arange(len(features))")
    report = check(path, training=True)
    sorted_order = [f for f in report["findings"] if f["name"] == "step-sorted-order"]
    assert sorted_order, report["findings"]
