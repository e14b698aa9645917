"""A minibatch step that adds each sample's gradient up in a loop of its own and computes no loss
(`for i in batch: ... e = p - t[i]; gW += np.outer(x[i], d)`): the loss its error implies is summed
over that loop, not taken from its last sample, so a right step is judged right, and a sum
started once before the training loop (`gW = np.zeros_like(W)` above it, where the step's other
sums start inside) is named where the pass adds to it, with the line that zeroes it once."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.userfiles import check, errors, line_of, planted

# sigmoid output and its cross-entropy error, one sample at a time
SIGMOID = """\
    import numpy as np

    rng = np.random.default_rng(7)
    data = rng.normal(size=(90, 3))
    target = (data[:, 0] - data[:, 1] > 0).astype(float)
    U = rng.normal(0, 0.4, (3, 6))
    c = np.zeros(6)
    v = rng.normal(0, 0.4, 6)
    d = 0.0

    gU = np.zeros_like(U)
    for epoch in range(40):
        order = rng.permutation(90)
        for k in range(0, 90, 15):
            gU = np.zeros_like(U)
            gc = np.zeros_like(c)
            gv = np.zeros_like(v)
            gd = 0.0
            for i in order[k:k + 15]:
                z = np.tanh(data[i] @ U + c)
                p = 1 / (1 + np.exp(-(z @ v + d)))
                e = p - target[i]
                gv += e * z
                gd += e
                dz = e * v * (1 - z ** 2)
                gU += np.outer(data[i], dz)
                gc += dz
            U -= 0.3 * gU / 15
            c -= 0.3 * gc / 15
            v -= 0.3 * gv / 15
            d -= 0.3 * gd / 15
"""

# linear output, squared error, the per-sample loop over explicit indices
LINEAR = """\
    import numpy as np

    np.random.seed(11)
    inputs = np.random.randn(64, 4)
    outputs = inputs @ np.array([[0.5], [-1.0], [2.0], [0.3]]) + 0.1
    A = np.random.randn(4, 5) * 0.3
    b1 = np.zeros((1, 5))
    B = np.random.randn(5, 1) * 0.3
    b2 = np.zeros((1, 1))

    dA_sum = np.zeros_like(A)
    for epoch in range(30):
        for start in range(0, 64, 16):
            dA_sum = np.zeros_like(A)
            db1_sum = np.zeros_like(b1)
            dB_sum = np.zeros_like(B)
            db2_sum = np.zeros_like(b2)
            for n in range(start, start + 16):
                x = inputs[n:n + 1]
                h = np.maximum(0, x @ A + b1)
                out = h @ B + b2
                err = out - outputs[n:n + 1]
                dB_sum += h.T @ err
                db2_sum += err
                dh = (err @ B.T) * (h > 0)
                dA_sum += x.T @ dh
                db1_sum += dh
            A -= 0.05 * dA_sum / 16
            b1 -= 0.05 * db1_sum / 16
            B -= 0.05 * dB_sum / 16
            b2 -= 0.05 * db2_sum / 16
"""

STYLES = {
    "sigmoid": (SIGMOID, "        gU = np.zeros_like(U)\n", "gU += np.outer(data[i], dz)"),
    "linear": (LINEAR, "        dA_sum = np.zeros_like(A)\n", "dA_sum += x.T @ dh"),
}


@pytest.mark.parametrize("style", sorted(STYLES))
def test_a_right_step_summed_over_its_samples_is_right(tmp_path: Path, style: str) -> None:
    program = STYLES[style][0]
    report = check(planted(tmp_path, "train.py", program, "import numpy as np", "import numpy as np"))
    assert errors(report) == [], report["findings"]
    verdicts = [m["verdict"] for m in report["measurements"] if m["layer"] == "training step"]
    assert len(verdicts) == 4 and set(verdicts) == {"ok"}, report["measurements"]


@pytest.mark.parametrize("style", sorted(STYLES))
def test_a_sum_started_once_before_the_loop_is_named_where_it_adds(tmp_path: Path, style: str) -> None:
    program, reset, adds = STYLES[style]
    path = planted(tmp_path, "train.py", program, reset, "")
    report = check(path)
    first = errors(report)[0]
    assert first["line"] == line_of(path, adds), first
    assert f"set to zero only once, before the loop, at line {line_of(path, reset.strip())}" in first["message"]


@pytest.mark.parametrize("style", sorted(STYLES))
def test_the_replayed_curve_reads_the_same_summed_loss(tmp_path: Path, style: str) -> None:
    # the curve runs the step's own pass, with its sums over the samples: a loss read from the loop as
    # written would never change, and the right updates would look lost
    program = STYLES[style][0]
    report = check(planted(tmp_path, "train.py", program, "import numpy as np", "import numpy as np"), training=True)
    assert errors(report) == [], report["findings"]
    assert not [f for f in report["findings"] if f["name"] == "step-update-lost"]
