"""Classes whose constructor reads a module-level name that the program sets with a call.

Objects are built from a file's definitions alone (imports, functions, classes, constant
assignments); a statement that calls something is left out. A weight initialisation drawn from
a module-level generator (`rng = np.random.default_rng(0)`) is kept, since making a NumPy
generator runs no user code; any other name the file sets at module level is the tool's gap,
never a `layer-raised` error in the user's code. A name the file never sets still is one."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

MODEL = '''\
import numpy as np

rng = np.random.default_rng(5)
X = rng.normal(size=(120, 2))
Y = (np.sum(X ** 2, axis=1, keepdims=True) > 1.5).astype(float)


class CircleNet:
    def __init__(self, n_in, n_hidden):
        self.W_h = rng.normal(size=(n_in, n_hidden))
        self.b_h = np.zeros((1, n_hidden))
        self.W_o = rng.normal(size=(n_hidden, 1))
        self.b_o = np.zeros((1, 1))

    def forward(self, X):
        self.X = X
        self.H = np.tanh(X @ self.W_h + self.b_h)
        self.P = 1 / (1 + np.exp(-(self.H @ self.W_o + self.b_o)))
        return self.P

    def backward(self, dP):
        dZ_o = dP * self.P * (1 - self.P)
        self.dW_o = self.H.T @ dZ_o
        self.db_o = dZ_o.sum(axis=0, keepdims=True)
        dZ_h = dZ_o @ self.W_o.T * (1 - self.H ** 2)
        self.dW_h = self.X.T @ dZ_h
        self.db_h = dZ_h.sum(axis=0, keepdims=True)
        return dZ_h @ self.W_h.T


net = CircleNet(2, 6)
for i in range(300):
    P = net.forward(X)
    cost = -np.mean(Y * np.log(P) + (1 - Y) * np.log(1 - P))
    net.backward((P - Y) / (P * (1 - P)) / len(X))
    net.W_o -= 0.5 * net.dW_o
    net.b_o -= 0.5 * net.db_o
    net.W_h -= 0.5 * net.dW_h
    net.b_h -= 0.5 * net.db_h
'''


def _definitions(source: str) -> str:
    """The file without its training: what a user pastes to have the class checked alone."""
    return source[: source.index("net = CircleNet(2, 6)")]


def test_a_constructor_drawing_from_a_module_level_generator_is_built(tmp_path):
    path = write(tmp_path, "circles.py", _definitions(MODEL))
    report = check(path)
    assert errors(report) == []
    assert [f for f in report["findings"] if f["name"] in ("layer-raised", "build-failed")] == []
    assert {m["param"] for m in report["measurements"] if m["layer"] == "CircleNet" and m["verdict"] == "ok"} >= {"W_h", "b_h", "W_o", "b_o"}


def _scaled(source: str) -> str:
    return source.replace("rng = np.random.default_rng(5)\n", "rng = np.random.default_rng(5)\nSCALE = float(np.sqrt(2.0))\n").replace(
        "self.W_h = rng.normal(size=(n_in, n_hidden))", "self.W_h = rng.normal(size=(n_in, n_hidden)) * SCALE")


def test_a_constructor_reading_a_name_the_script_computes_is_checked_on_the_programs_own_object(tmp_path):
    path = write(tmp_path, "circles.py", _scaled(MODEL))
    report = check(path)
    assert errors(report) == []
    assert {m["param"] for m in report["measurements"] if m["layer"] == "CircleNet" and m["verdict"] == "ok"} >= {"W_h", "b_h", "W_o", "b_o"}


def test_such_a_class_that_the_program_never_makes_is_the_tools_gap_not_the_users_error(tmp_path):
    path = write(tmp_path, "circles.py", _definitions(_scaled(MODEL)))
    report = check(path)
    assert [f for f in report["findings"] if f["name"] == "layer-raised"] == []
    said = f"it reads `SCALE`, which your file sets at line {line_of(path, 'SCALE = ')}"
    assert any(said in f["message"] for f in report["findings"] if f["name"] == "build-failed")


def test_a_constructor_reading_a_name_the_file_never_sets_is_still_the_users_error(tmp_path):
    path = planted(tmp_path, "circles.py", MODEL, "self.W_h = rng.normal(size=(n_in, n_hidden))", "self.W_h = rng.normal(size=(n_in, n_hidden)) * SCALE")
    (raised,) = [f for f in errors(check(path)) if f["name"] == "layer-raised"]
    assert "name 'SCALE' is not defined" in raised["message"]
    assert raised["line"] == line_of(path, "* SCALE")
