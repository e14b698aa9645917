"""A column pair that divides its gradients by the input's rows: `m = A_prev.shape[0]`.

With one example per column (`A_prev` (n_prev, m)), the course's `linear_backward` divides dW and db
by the number of examples, `A_prev.shape[1]`. Taking `shape[0]` divides by the number of units of
the layer before instead, a different factor in every layer: the network's own check and the
replayed training step only see unrelated factors, and the replay's first wrong adjoint is `dAL`,
a batch size times the mean's gradient (the convention's own factor, which `linear_backward`
should take out). The pair's check names the statement that counts the rows, it ranks first, and
the replay does not blame `dAL`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from backprop_doctor.conventions import column_pairs
from tests.userfiles import check, errors, line_of, planted

CASES = Path(__file__).parent / "cases" / "conventions"

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

PROGRAM = (CASES / "column_pairs_ok.py").read_text(encoding="utf-8") + LOOP
COLUMNS = "    m = A_prev.shape[1]"
ROWS = "    m = A_prev.shape[0]"


def test_the_correct_program_with_its_training_loop_is_clean(tmp_path: Path) -> None:
    report = check(planted(tmp_path, "deep_nn.py", PROGRAM, COLUMNS, COLUMNS))
    assert errors(report) == []


def test_a_count_of_the_rows_is_the_root_cause_named_at_its_line(tmp_path: Path) -> None:
    path = planted(tmp_path, "deep_nn.py", PROGRAM, COLUMNS, ROWS)
    report = check(path)
    found = errors(report)
    root = report["findings"][report["root_cause"]]
    assert (root["code"], root["pattern"], root["line"]) == ("BPD101", "divided-by-rows", line_of(path, ROWS))
    assert root["message"].endswith("the number of rows of its input (one per feature), where the samples are the input's 16 columns: "
                                    f"`m = A_prev.shape[0]` (line {line_of(path, ROWS)}) counts the rows; write `m = A_prev.shape[1]`")
    assert {(f["layer"], f["param"]) for f in found if f["pattern"] == "divided-by-rows"} == {
        ("linear", "W"), ("linear", "b"), ("linear_activation", "W"), ("linear_activation", "b"),
    }
    assert [f for f in found if f["code"] == "BPD108"] == []  # `dAL` is the convention's, not the mistake


def test_the_pair_alone_is_named_the_same_way(tmp_path: Path) -> None:
    path = planted(tmp_path, "deep_nn.py", (CASES / "column_pairs_ok.py").read_text(encoding="utf-8"), COLUMNS, ROWS)
    lines = {(f["pattern"], f["line"]) for f in errors(check(path))}
    assert ("divided-by-rows", line_of(path, ROWS)) in lines


def _pair(divisor: str):
    def forward(x, params):
        return params["W"] @ x + params["b"]

    def backward(dout):
        count = {"columns": x.shape[1], "rows": x.shape[0], "none": 1}[divisor]
        return {"W": dout @ x.T / count, "b": dout.sum(axis=1, keepdims=True) / count}

    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 3))
    params = {"W": rng.standard_normal((4, 5)), "b": rng.standard_normal((4, 1))}
    return forward, backward, x, params


def test_the_count_a_pair_over_columns_divides_by_is_told_apart() -> None:
    assert column_pairs.mean_rows(*_pair("rows")) == 5 and column_pairs.mean_columns(*_pair("rows")) is None
    assert column_pairs.mean_columns(*_pair("columns")) == 3 and column_pairs.mean_rows(*_pair("columns")) is None
    assert column_pairs.mean_rows(*_pair("none")) is None
