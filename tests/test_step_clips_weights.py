"""A training pass that clips the weights it updates, in place, after computing their gradients, where it
meant to clip the gradients (`for p in (Wh, bh, Wo, bo): np.clip(p, -LIMIT, LIMIT, out=p)` before
`Wh -= rate * gWh`): every weight is boxed into the clip's range and the raw gradients go through.
Named at the clip (`step-clips-weights`); clipping the gradients, or clipping the weights beside clipped
gradients, or after the update (a weight constraint), is left alone."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

PROGRAM = '''\
import numpy as np

gen = np.random.default_rng(11)
inputs = gen.uniform(-2, 2, size=(200, 2))
labels = (inputs[:, :1] * inputs[:, 1:] > 0).astype(float)

Wh = gen.normal(0.0, 1.5, (2, 10))
bh = np.zeros(10)
Wo = gen.normal(0.0, 1.5, (10, 1))
bo = np.zeros(1)
rate = 0.5
LIMIT = 0.8


def sigm(v):
    return 1.0 / (1.0 + np.exp(-v))


for it in range(400):
    hid = np.tanh(inputs @ Wh + bh)
    prob = sigm(hid @ Wo + bo)
    bce = -np.mean(labels * np.log(prob) + (1 - labels) * np.log(1 - prob))
    g_out = (prob - labels) / len(inputs)
    gWo = hid.T @ g_out
    gbo = g_out.sum(axis=0)
    g_hid = (g_out @ Wo.T) * (1 - hid ** 2)
    gWh = inputs.T @ g_hid
    gbh = g_hid.sum(axis=0)
    for p in (gWh, gbh, gWo, gbo):
        np.clip(p, -LIMIT, LIMIT, out=p)
    Wh -= rate * gWh
    bh -= rate * gbh
    Wo -= rate * gWo
    bo -= rate * gbo
    if it % 100 == 0:
        print(it, round(float(bce), 4))
'''

RIGHT = "    for p in (gWh, gbh, gWo, gbo):\n"
WRONG = "    for p in (Wh, bh, Wo, bo):\n"


def test_clipping_the_gradients_gets_no_error(tmp_path):
    assert errors(check(planted(tmp_path, "clip.py", PROGRAM, RIGHT, RIGHT), training=True)) == []


def test_clipping_the_weights_instead_of_the_gradients_is_named_at_the_clip(tmp_path):
    path = planted(tmp_path, "clip.py", PROGRAM, RIGHT, WRONG)
    report = check(path)
    root = report["findings"][report["root_cause"]]
    assert (root["code"], root["line"]) == ("BPD626", line_of(path, "for p in (Wh, bh, Wo, bo):"))
    assert "`gWh`, `gbh`, `gWo` and `gbo`" in root["message"] and "[-LIMIT, LIMIT]" in root["message"]


def test_one_weight_clipped_by_rebinding_it_is_named_too(tmp_path):
    clipped = PROGRAM.replace(RIGHT + "        np.clip(p, -LIMIT, LIMIT, out=p)\n", "    Wo = np.clip(Wo, -LIMIT, LIMIT)\n")
    assert clipped != PROGRAM
    path = planted(tmp_path, "clip.py", clipped, "    Wo = np.clip", "    Wo = np.clip")
    root = check(path)["findings"]
    assert [(f["code"], f["line"]) for f in root if f["code"] == "BPD626"] == [("BPD626", line_of(path, "Wo = np.clip(Wo"))]


def test_weights_clipped_beside_clipped_gradients_or_after_the_update_are_left_alone(tmp_path):
    beside = PROGRAM.replace(RIGHT, "    Wo[...] = np.clip(Wo, -4.0, 4.0)\n" + RIGHT)
    assert [f for f in check(planted(tmp_path, "beside.py", beside, RIGHT, RIGHT))["findings"] if f["code"] == "BPD626"] == []
    after = PROGRAM.replace("    bo -= rate * gbo\n", "    bo -= rate * gbo\n    for q in (Wh, Wo):\n        np.clip(q, -4.0, 4.0, out=q)\n")
    assert [f for f in check(planted(tmp_path, "after.py", after, RIGHT, RIGHT))["findings"] if f["code"] == "BPD626"] == []
