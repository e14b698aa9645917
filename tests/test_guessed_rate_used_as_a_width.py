"""A constructor argument the tool has to guess, named like a rate (`p`, `rate`), that the
layer uses as a width: the float the tool guessed made the shape a float, so the TypeError is
the guess's, not the user's, and the layer is built again with a size in its place."""

from tests.userfiles import check, errors, planted

LAYER = """
    import numpy as np

    class Dense:
        def __init__(self, n_in, rate):
            self.W = np.random.randn(n_in, rate) * 0.1
            self.b = np.zeros(rate)

        def forward(self, x):
            self.x = x
            return x @ self.W + self.b

        def backward(self, dout):
            self.dW = self.x.T @ dout
            self.db = dout.sum(axis=0)
            return dout @ self.W.T
"""


def test_a_width_named_like_a_rate_is_built_with_a_size_and_checked(tmp_path):
    report = check(planted(tmp_path, "dense.py", LAYER, "x @ self.W + self.b", "x @ self.W + self.b"))
    assert errors(report) == []
    assert {row["param"] for row in report["measurements"] if row["layer"] == "Dense"} == {"x", "W", "b"}
    assert [built["how"] for built in report["built"]] == ["Dense(n_in=12, rate=6)"]


def test_the_layer_built_that_way_still_has_its_bug_found(tmp_path):
    path = planted(tmp_path, "dense.py", LAYER, "return dout @ self.W.T", "return dout @ self.W.T * 2")
    report = check(path)
    assert {f["code"] for f in errors(report)} == {"BPD101"}, errors(report)


def test_a_float_width_the_user_wrote_is_still_the_users_error(tmp_path):
    path = planted(tmp_path, "dense.py", LAYER, "np.zeros(rate)", "np.zeros(n_in / 2)")
    report = check(path)
    assert [f["code"] for f in errors(report)] == ["BPD105"], report["findings"]


def test_a_float_size_given_to_np_zeros_gets_the_python2_division_hint(tmp_path):
    path = planted(tmp_path, "dense.py", LAYER, "np.zeros(rate)", "np.zeros(n_in / 2)")
    (found,) = errors(check(path))
    assert found["pattern"] == "python2-division", found
    assert "write `//`" in found["message"]
