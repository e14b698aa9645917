"""A network written as functions is checked from its own initialiser, whose biases start at zero.

The course's `initialize_parameters_deep` sets every `b` to `np.zeros((n, 1))`. On the check's few
samples, a sample whose hidden units are all off reaches the next layer as a column of zeros, and
with a zero bias that layer's pre-activation sits exactly on the ReLU's kink: no central difference
agrees with any gradient there, and a correct network got a `gradient-at-kink` note on that bias.
The check starts its zero biases from small random values instead, so the correct network is
clean, and a wrong one is still wrong on every layer.
"""

from __future__ import annotations

from pathlib import Path

from tests.userfiles import check, planted

CASES = Path(__file__).parent / "cases" / "conventions"

# the initialiser scaled as in the course's deep network (the case file's own scales by 0.1 and seeds)
SEEDED = '''    np.random.seed(3)
    parameters = {}
    for l in range(1, len(layer_dims)):
        parameters["W" + str(l)] = np.random.randn(layer_dims[l], layer_dims[l - 1]) * 0.1
'''
SCALED = '''    parameters = {}
    for l in range(1, len(layer_dims)):
        parameters["W" + str(l)] = np.random.randn(layer_dims[l], layer_dims[l - 1]) / np.sqrt(layer_dims[l - 1])
'''
LOOP = """

np.random.seed(0)
X = np.random.randn(9, 200)
Y = (X[0:1] + 0.5 * X[1:2] ** 2 > 0.3).astype(float)
parameters = initialize_parameters_deep([9, 14, 6, 1])
for i in range(300):
    AL, caches = L_model_forward(X, parameters)
    cost = compute_cost(AL, Y)
    grads = L_model_backward(AL, Y, caches)
    parameters = update_parameters(parameters, grads, 0.05)
"""
PROGRAM = (CASES / "column_pairs_ok.py").read_text(encoding="utf-8").replace(SEEDED, SCALED) + LOOP
NETWORK = "L_model_forward/L_model_backward"


def test_a_correct_network_whose_biases_start_at_zero_gets_no_kink_note(tmp_path: Path) -> None:
    assert SCALED in PROGRAM
    report = check(planted(tmp_path, "deep_net.py", PROGRAM, SCALED, SCALED))
    assert report["findings"] == []
    verdicts = {m["param"]: m["verdict"] for m in report["measurements"] if m["layer"] == NETWORK}
    assert verdicts == {name: "ok" for name in ("W1", "b1", "W2", "b2", "W3", "b3")}


def test_a_wrong_network_is_still_wrong_on_its_biases(tmp_path: Path) -> None:
    path = planted(tmp_path, "deep_net.py", PROGRAM, "    db = np.sum(dZ, axis=1, keepdims=True) / m", "    db = np.sum(dZ, axis=1, keepdims=True)")
    wrong = {f["param"] for f in check(path)["findings"] if f["layer"] == NETWORK and f["severity"] == "error"}
    assert {"b1", "b2", "b3"} <= wrong
