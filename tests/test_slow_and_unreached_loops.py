"""A training step too slow to replay, and a loop the program never reaches, cost the check no time.

The book's chapter 4 trains with `numerical_gradient`: one step of its 784-50-10 network takes
seconds, and replaying it the dozen times a replay needs ran the whole check past its time limit
(a timeout, nothing reported). A file that defines a second training loop in a function its
program never calls was run once more for that loop, to its end, to find it never ran.
"""

from __future__ import annotations

from backprop_doctor import pipeline
from backprop_doctor.options import Options
from backprop_doctor.replay import capture, gradients
from tests.inprocess import program_runs, restored_interpreter  # noqa: F401 - fixtures

NUMERICAL = """
import numpy as np


class Net:
    def __init__(self, n_in, n_hidden, n_out):
        rng = np.random.default_rng(1)
        self.params = {"W1": 0.5 * rng.standard_normal((n_in, n_hidden)), "b1": np.zeros(n_hidden),
                       "W2": 0.5 * rng.standard_normal((n_hidden, n_out)), "b2": np.zeros(n_out)}

    def loss(self, x, t):
        h = np.tanh(x @ self.params["W1"] + self.params["b1"])
        y = h @ self.params["W2"] + self.params["b2"]
        return 0.5 * np.sum((y - t) ** 2) / x.shape[0]

    def numerical_gradient(self, x, t):
        grads = {}
        for key, p in self.params.items():
            g = np.zeros_like(p)
            for i in np.ndindex(p.shape):
                old = p[i]
                p[i] = old + 1e-4
                up = self.loss(x, t)
                p[i] = old - 1e-4
                down = self.loss(x, t)
                p[i] = old
                g[i] = (up - down) / 2e-4
            grads[key] = g
        return grads


def train(net, x, t):  # never called: the program below trains by itself
    for epoch in range(100):
        grads = net.numerical_gradient(x, t)
        for key in net.params:
            net.params[key] -= 0.1 * grads[key]


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 3))
    t = rng.standard_normal((8, 2))
    net = Net(3, 4, 2)
    for i in range(3):  # too few passes for the observed run to stop early: the program runs to its end
        grads = net.numerical_gradient(x, t)
        for key in ("W1", "b1", "W2", "b2"):
            net.params[key] -= 0.1 * grads[key]
        loss = net.loss(x, t)
"""


def _check(tmp_path, text: str):
    path = tmp_path / "train_neuralnet.py"
    path.write_text(text, encoding="utf-8")
    return path, pipeline.check_file(str(path), Options(training=False))


def _replays(report) -> dict[int, dict]:
    return {r["loop_line"]: r for r in report.extras["replay"]}


def _moved(step: dict) -> set[str]:
    """The keys of `net.params` whose updates the replay compared with the gradient, each one right."""
    assert not any(p["wrong"] for p in step["parameters"])
    return {p["name"].split("'")[1] for p in step["parameters"]}


def _line(path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in line)


def test_a_step_too_slow_to_replay_is_not_run_again_and_the_network_is_still_checked(tmp_path, program_runs, monkeypatch):
    monkeypatch.setattr(gradients, "REPLAY_RUNS", 10**9)  # any step is then too slow for the budget
    path, report = _check(tmp_path, NUMERICAL)
    step = _replays(report)[_line(path, "for i in range(3):")]
    assert step["not_replayed"].startswith("one pass of the step takes ")
    assert "run budget (10 s)" in step["not_replayed"]
    assert step["parameters"] == []
    assert [f for f in report.findings if f.severity == "error"] == []
    assert {m.param for m in report.measurements if m.layer == "Net"} == {"W1", "b1", "W2", "b2"}


def test_a_step_the_budget_affords_is_replayed(tmp_path, program_runs):
    path, report = _check(tmp_path, NUMERICAL)
    step = _replays(report)[_line(path, "for i in range(3):")]
    assert step["not_replayed"] is None
    assert _moved(step) == {"W1", "b1", "W2", "b2"}


def test_a_loop_the_program_never_reaches_is_not_run_for(tmp_path, program_runs, monkeypatch):
    made = []
    original = capture.StepCapture

    def counted(path, step, budget):
        made.append(step.loop_line)
        return original(path, step, budget)

    monkeypatch.setattr(capture, "StepCapture", counted)
    path, report = _check(tmp_path, NUMERICAL)
    never, trained = _line(path, "for epoch in range(100):"), _line(path, "for i in range(3):")
    assert made == [trained]
    assert _replays(report)[never]["not_replayed"] == "the training loop never ran"
    assert _replays(report)[trained]["not_replayed"] is None


def test_a_loop_after_one_the_observed_run_stopped_in_is_still_replayed(tmp_path, program_runs):
    """The observed run stops once it has seen a few passes of the first loop: the loop `train`
    runs after it was never reached then, yet the program reaches it, and is run for it."""
    first = NUMERICAL.index("    for i in range(3):")
    text = NUMERICAL[:first].replace("for epoch in range(100):", "for epoch in range(3):") + (
        "    for i in range(500):\n"
        "        grads = net.numerical_gradient(x, t)\n"
        "        for key in net.params:\n"
        "            net.params[key] -= 0.01 * grads[key]\n"
        "    train(net, x, t)\n"
    )
    path, report = _check(tmp_path, text)
    steps = _replays(report)
    for needle in ("for i in range(500):", "for epoch in range(3):"):
        step = steps[_line(path, needle)]
        assert step["not_replayed"] is None, needle
        assert _moved(step) == {"W1", "b1", "W2", "b2"}, needle


METHOD_LOOP = """
import numpy as np


class LinearRegression:
    def train(self, X, y, learning_rate, n_iters):
        self.w = np.zeros((X.shape[1], 1))
        self.b = 0.0
        costs = []
        for i in range(n_iters):
            y_hat = X @ self.w + self.b
            cost = np.mean((y_hat - y) ** 2) / 2
            dw = X.T @ (y_hat - y) / len(X)
            db = np.mean(y_hat - y)
            self.w = self.w - learning_rate * dw
            self.b = self.b - learning_rate * db
            costs.append(cost)
        return costs


rng = np.random.default_rng(0)
X = rng.standard_normal((50, 2))
y = X @ np.array([[2.0], [-1.0]]) + 0.5
costs = LinearRegression().train(X, y, learning_rate=0.05, n_iters=300)
"""


def test_a_loop_inside_a_method_the_program_calls_is_reached_and_replayed(tmp_path, program_runs):
    """The method's loop calls nothing of the user's own: the observed run sees it by its head line,
    also inside a method it watches for its return, and so does not take it for a loop never run."""
    path, report = _check(tmp_path, METHOD_LOOP)
    step = _replays(report)[_line(path, "for i in range(n_iters):")]
    assert step["not_replayed"] is None
    assert {p["name"] for p in step["parameters"]} == {"self.w", "self.b"}
    assert not any(p["wrong"] for p in step["parameters"])
    assert report.extras["observed_run"]["stopped"] == "enough"
