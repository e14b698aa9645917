"""Tests that fail when the product is broken in the eight ways issue 15 found the suite blind to.

Each test drives a user file of our own, written to `tmp_path`, through the real CLI in a
subprocess (or the real plugin under pytester), and pins the behaviour the breakage changes.
`docs/TESTING.md` lists which breakage each test kills; `benchmarks/mutation_breakages.py`
applies them one at a time.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import numpy  # noqa: F401  -- in-process pytester runs drop modules they import; numpy cannot load twice
import pytest

from backprop_doctor import training


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("FORCE_COLOR", None)
    return subprocess.run(
        [sys.executable, "-m", "backprop_doctor", *args],
        capture_output=True, text=True, encoding="utf-8", cwd=cwd, env=env, timeout=180,
    )  # fmt: skip


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def check_json(*paths: Path, training_probe: bool = False) -> tuple[int, dict]:
    args = ["check", *map(str, paths), "--format", "json"]
    if not training_probe:
        args.append("--no-training")
    result = run(*args)
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, json.loads(result.stdout)


def line_of(path: Path, text: str) -> int:
    """The 1-based line of `path` holding `text` (exactly one)."""
    hits = [n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if text in line]
    assert len(hits) == 1, hits
    return hits[0]


def findings(document: dict, index: int = 0) -> list[dict]:
    return document["files"][index]["findings"]


def named(document: dict, name: str, index: int = 0) -> list[dict]:
    return [f for f in findings(document, index) if f["name"] == name]


# --------------------------------------------------------------------------- 1. worst elements, worst first

SCALE_TWO_COLUMNS_WRONG = """
    import numpy as np


    class Scale:
        def __init__(self):
            self.k = 3.0

        def forward(self, x):
            self.x = x
            return self.k * x

        def backward(self, dout):
            dx = self.k * dout
            dx[:, 0] *= 2.0
            dx[:, 1] *= 1.2
            return dx
"""


def _element_rows(text: str) -> list[tuple[str, float, float, float]]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("index"))
    rows = []
    for line in lines[start + 1 :]:
        index, numerical, analytic, error = re.match(r"^(\(.*?\))\s+(\S+)\s+(\S+)\s+(\S+)$", line).groups()
        rows.append((index, float(numerical), float(analytic), float(error)))
    return rows


def test_a_gradient_finding_shows_its_worst_elements_worst_first(tmp_path):
    path = write(tmp_path, "scale.py", SCALE_TWO_COLUMNS_WRONG)
    status, document = check_json(path)
    assert status == 1
    (finding,) = named(document, "gradient-mismatch")
    assert finding["line"] in (line_of(path, "dx[:, 0] *= 2.0"), line_of(path, "dx[:, 1] *= 1.2"))
    assert finding["pattern"] == "some-columns" and "(column 0, 1)" in finding["message"]
    text = dict((e["label"], e["text"]) for e in finding["evidence"])["elements"]
    largest = float(re.search(r"Max relative difference: (\S+)", text).group(1))
    rows = _element_rows(text)
    assert len(rows) == 5
    errors = [row[3] for row in rows]
    assert errors == sorted(errors, reverse=True)
    assert errors[0] == pytest.approx(largest, rel=1e-3) == pytest.approx(0.5, rel=1e-3)
    # column 0 is twice too large (relative error 0.5): the five shown are its five rows
    assert all(index.endswith(", 0)") for index, *_ in rows)
    assert all(analytic == pytest.approx(2 * numerical, rel=1e-4) for _, numerical, analytic, _ in rows)


# --------------------------------------------------------------------------- 2. the probe's noise floor

OFFSET_LAYER = """
    import numpy as np


    class ScaleShift:
        \"\"\"y = 2x + 1e6: outputs near a million, so the loss is large against its changes.\"\"\"

        def forward(self, x):
            return 2 * x + 1e6

        def backward(self, dout):
            return {factor} * dout
"""


def test_a_correct_layer_with_a_large_constant_offset_passes(tmp_path):
    path = write(tmp_path, "offset.py", OFFSET_LAYER.format(factor=2))
    status, document = check_json(path)
    assert findings(document) == [] and status == 0
    measured = document["files"][0]["measurements"]
    assert [(m["layer"], m["param"], m["verdict"]) for m in measured] == [("ScaleShift", "x", "ok")]


def test_a_wrong_layer_with_a_large_constant_offset_still_fails(tmp_path):
    path = write(tmp_path, "offset.py", OFFSET_LAYER.format(factor=3))
    status, document = check_json(path)
    assert status == 1
    (finding,) = named(document, "gradient-mismatch")
    assert finding["line"] == line_of(path, "return 3 * dout")
    assert finding["pattern"] == "scaled"


# --------------------------------------------------------------------------- 3. forward gets a copy of x

IN_PLACE_LEAKY_RELU = """
    import numpy as np


    class LeakyRelu:
        def __init__(self, slope=0.1):
            self.slope = slope

        def forward(self, x):
            self.mask = x < 0
            x[self.mask] *= self.slope
            return x

        def backward(self, dout):
            dx = dout.copy()
            dx[self.mask] *= {backward_slope}
            return dx
"""


def test_an_in_place_layer_with_a_wrong_dx_gets_a_mismatch_not_a_kink(tmp_path):
    path = write(tmp_path, "leaky.py", IN_PLACE_LEAKY_RELU.format(backward_slope="0.5"))
    status, document = check_json(path)
    assert status == 1
    names = Counter(f["name"] for f in findings(document))
    assert names == {"input-mutated": 1, "gradient-mismatch": 1}
    (mismatch,) = named(document, "gradient-mismatch")
    assert (mismatch["layer"], mismatch["param"], mismatch["severity"]) == ("LeakyRelu", "x", "error")
    assert mismatch["line"] == line_of(path, "dx[self.mask] *= 0.5")
    (mutated,) = named(document, "input-mutated")
    assert mutated["line"] == line_of(path, "x[self.mask] *= self.slope")


def test_an_in_place_layer_with_a_right_dx_gets_only_the_input_mutated_finding(tmp_path):
    path = write(tmp_path, "leaky.py", IN_PLACE_LEAKY_RELU.format(backward_slope="self.slope"))
    status, document = check_json(path)
    assert status == 1
    assert [f["name"] for f in findings(document)] == ["input-mutated"]
    assert [m["verdict"] for m in document["files"][0]["measurements"]] == ["ok"]


# --------------------------------------------------------------------------- 4. softmax row sums to 1e-6

SQUARE_COLUMN_SOFTMAX = """
    import numpy as np


    def softmax(x):
        e = np.exp(x - np.max(x, axis=0))
        return e / np.sum(e, axis=0)


    def cross_entropy_error(y, t):
        batch_size = y.shape[0]
        return -np.sum(t * np.log(y + 1e-7)) / batch_size


    class Affine:
        def __init__(self, W, b):
            self.W = W
            self.b = b

        def forward(self, x):
            self.x = x
            return np.dot(x, self.W) + self.b

        def backward(self, dout):
            self.dW = np.dot(self.x.T, dout)
            self.db = np.sum(dout, axis=0)
            return np.dot(dout, self.W.T)


    class SoftmaxWithLoss:
        def forward(self, x, t):
            self.t = t
            self.y = softmax(x)
            return cross_entropy_error(self.y, self.t)

        def backward(self, dout=1):
            batch_size = self.t.shape[0]
            return (self.y - self.t) / batch_size


    class Net:
        def __init__(self, input_size, output_size, weight_init_std=0.001):
            self.params = {}
            self.params["W1"] = weight_init_std * np.random.randn(input_size, output_size)
            self.params["b1"] = np.zeros(output_size)
            self.affine = Affine(self.params["W1"], self.params["b1"])
            self.last = SoftmaxWithLoss()

        def loss(self, x, t):
            return self.last.forward(self.affine.forward(x), t)

        def gradient(self, x, t):
            self.loss(x, t)
            dout = self.last.backward(1)
            self.affine.backward(dout)
            return {"W1": self.affine.dW, "b1": self.affine.db}


    net = Net(input_size=8, output_size=16)
    x_batch = np.random.randn(16, 8)
    t_batch = np.eye(16)[np.random.randint(0, 16, 16)]
    for i in range(3):
        grads = net.gradient(x_batch, t_batch)
        for key in ("W1", "b1"):
            net.params[key] -= 0.1 * grads[key]
"""


def test_a_column_softmax_whose_rows_sum_to_one_within_a_percent_is_caught_on_the_networks_scores(tmp_path):
    """16 classes, batches of 16, tiny scores: down the columns, every row still sums to 1 ± 0.003.

    Only a row-sum threshold far below that tells these probabilities from per-row ones.
    """
    path = write(tmp_path, "square.py", SQUARE_COLUMN_SOFTMAX)
    _, document = check_json(path)
    (finding,) = named(document, "softmax-not-per-row")
    assert finding["line"] == line_of(path, "return e / np.sum(e, axis=0)")
    assert finding["threshold"] == 1e-6
    assert 1e-6 < finding["measured"] < 1e-2  # measured on the network's own near-uniform scores
    first = finding["evidence"][0]
    assert first["label"] == "row sums"
    assert first["text"].startswith("`SoftmaxWithLoss.y` after forward on the scores `Net` feeds it")


# --------------------------------------------------------------------------- 5. findings de-duplicated

TWO_INSTANCES_EACH = """
    import numpy as np


    class Relu:
        def forward(self, x):
            self.mask = x <= 0
            x[self.mask] = 0
            return x

        def backward(self, dout):
            dout[self.mask] = 0
            return dout


    class Sigmoid:
        def forward(self, x):
            self.out = 1 / (1 + np.exp(-x))
            return self.out

        def backward(self, dout):
            return dout * self.out


    relu1 = Relu()
    relu2 = Relu()
    sig1 = Sigmoid()
    sig2 = Sigmoid()
"""


def test_two_instances_of_a_buggy_class_give_each_finding_once(tmp_path):
    path = write(tmp_path, "twice.py", TWO_INSTANCES_EACH)
    status, document = check_json(path)
    assert status == 1
    got = sorted((f["name"], f["layer"], f["param"], f["line"]) for f in findings(document))
    assert got == sorted(
        [
            ("input-mutated", "Relu", None, line_of(path, "x[self.mask] = 0")),
            ("upstream-grad-mutated", "Relu", None, line_of(path, "dout[self.mask] = 0")),
            ("gradient-mismatch", "Sigmoid", "x", line_of(path, "return dout * self.out")),
        ]
    )
    # the book's Relu hands the dout it wrote into back as its dx: an info, not a warning
    assert document["summary"] == {"files": 1, "failing": 1, "errors": 2, "warnings": 0, "info": 1}


# --------------------------------------------------------------------------- 6. "::" in node ids

NETWORK_WITH_COLON_KEYS = """
    from collections import OrderedDict

    import numpy as np


    class Affine:
        def __init__(self, W, b):
            self.W = W
            self.b = b

        def forward(self, x):
            self.x = x
            return np.dot(x, self.W) + self.b

        def backward(self, dout):
            self.dW = np.dot(self.x.T, dout)
            self.db = np.sum(dout, axis=0)
            return np.dot(dout, self.W.T)


    class Tanh:
        def forward(self, x):
            self.out = np.tanh(x)
            return self.out

        def backward(self, dout):
            return dout * (1 - self.out)


    class MeanSquaredError:
        def forward(self, y, t):
            self.y, self.t = y, t
            return 0.5 * np.sum((y - t) ** 2) / y.shape[0]

        def backward(self, dout=1):
            return (self.y - self.t) / self.y.shape[0]


    class Net:
        def __init__(self, n_in, n_hidden, n_out):
            rng = np.random.default_rng(0)
            self.params = {
                "W1": 0.1 * rng.standard_normal((n_in, n_hidden)), "b1": np.zeros(n_hidden),
                "W2": 0.1 * rng.standard_normal((n_hidden, n_out)), "b2": np.zeros(n_out),
            }
            self.layers = OrderedDict()
            self.layers["Affine::1"] = Affine(self.params["W1"], self.params["b1"])
            self.layers["Tanh::1"] = Tanh()
            self.layers["Affine::2"] = Affine(self.params["W2"], self.params["b2"])
            self.lastLayer = MeanSquaredError()

        def predict(self, x):
            for layer in self.layers.values():
                x = layer.forward(x)
            return x

        def loss(self, x, t):
            return self.lastLayer.forward(self.predict(x), t)

        def gradient(self, x, t):
            self.loss(x, t)
            dout = self.lastLayer.backward(1)
            for layer in reversed(list(self.layers.values())):
                dout = layer.backward(dout)
            return {
                "W1": self.layers["Affine::1"].dW, "b1": self.layers["Affine::1"].db,
                "W2": self.layers["Affine::2"].dW, "b2": self.layers["Affine::2"].db,
            }


    net = Net(n_in=4, n_hidden=6, n_out=3)
"""


def _printed_node_ids(output: str) -> list[str]:
    return re.findall(r"^(\S+::\S+) (?:PASSED|FAILED|ERROR)", output, re.MULTILINE)


def test_layer_names_holding_double_colons_give_node_ids_that_paste_back(pytester: pytest.Pytester) -> None:
    """The real loader on a network whose layers are keyed "Affine::1", "Tanh::1", "Affine::2"."""
    (pytester.path / "colon_net.py").write_text(textwrap.dedent(NETWORK_WITH_COLON_KEYS).lstrip("\n"), encoding="utf-8")
    result = pytester.runpytest("--backprop-doctor", "colon_net.py", "-v", "-p", "no:cacheprovider")
    printed = _printed_node_ids(result.stdout.str())
    assert sorted(printed) == [
        "colon_net.py::Affine:1::gradient",
        "colon_net.py::Affine:2::gradient",
        "colon_net.py::MeanSquaredError::gradient",
        "colon_net.py::MeanSquaredError::upstream-grad-ignored",
        "colon_net.py::Tanh:1::gradient",  # tanh' is 1 - tanh², not 1 - tanh: the Net's gradient, assembled from it, is folded in here
    ]
    result.assert_outcomes(failed=1, passed=4)
    for node_id in printed:
        again = pytester.runpytest("--backprop-doctor", node_id, "--collect-only", "-q", "-p", "no:cacheprovider")
        assert [line for line in again.stdout.lines if "::" in line] == [node_id]


# --------------------------------------------------------------------------- 7. the loss-rise ratio

def _curve(first: float, tail: float, steps: int = 200) -> list[float]:
    """A loss curve from `first` whose last tenth sits at `tail`."""
    k = steps // 10
    return [float(v) for v in numpy.linspace(first, tail, steps - k)] + [tail] * k


@pytest.mark.parametrize(
    ("tail", "trend"),
    [
        (1.09, "stagnant"),  # just below the 10 % rise
        (1.11, "rises"),  # just above it
        (3.95, "rises"),  # just below the fourfold divergence
        (4.05, "diverges"),  # just above it
        (0.985, "stagnant"),  # falls by 1.5 %: less than the 2 % that counts as learning
        (0.975, "falls"),  # falls by 2.5 %
    ],
)
def test_curve_shape_boundaries(tail, trend):
    losses = _curve(1.0, tail)
    assert len(losses) == 200 and losses[0] == 1.0 and losses[-20:] == [tail] * 20
    shape = training.curve_shape(losses)
    assert shape.trend == trend
    assert shape.tail == pytest.approx(tail)


def test_the_rise_threshold_is_scaled_to_the_first_loss():
    """A loss of 2.3 (ln 10) that ends at 2.6 rose by 13 %; one that ends at 2.5 by 8.7 %."""
    assert training.curve_shape(_curve(2.3, 2.6)).trend == "rises"
    assert training.curve_shape(_curve(2.3, 2.5)).trend == "stagnant"


# --------------------------------------------------------------------------- 8. summary of several files

AFFINE = """
    import numpy as np


    class Affine:
        def __init__(self, W, b):
            self.W = W
            self.b = b

        def forward(self, x):
            self.x = x
            return np.dot(x, self.W) + self.b

        def backward(self, dout):
            self.dW = np.dot(self.x.T, dout)
            self.db = np.sum(dout, axis={axis})
            return np.dot(dout, self.W.T)
"""

SIGMOID_WRONG = """
    import numpy as np


    def sigmoid_forward(x):
        out = 1 / (1 + np.exp(-x))
        return out, out


    def sigmoid_backward(dout, cache):
        return dout * cache
"""


def test_the_json_summary_counts_every_failing_file(tmp_path):
    good = write(tmp_path, "good_affine.py", AFFINE.format(axis=0))
    bad_bias = write(tmp_path, "bad_bias.py", AFFINE.format(axis=1))
    bad_sigmoid = write(tmp_path, "bad_sigmoid.py", SIGMOID_WRONG)
    status, document = check_json(good, bad_bias, bad_sigmoid)
    assert status == 1
    files = {Path(f["file"]).name: f for f in document["files"]}
    assert {name: f["ok"] for name, f in files.items()} == {"good_affine.py": True, "bad_bias.py": False, "bad_sigmoid.py": False}
    summary = document["summary"]
    assert (summary["files"], summary["failing"]) == (3, 2)
    errors = sum(1 for f in document["files"] for g in f["findings"] if g["severity"] == "error")
    assert summary["errors"] == errors >= 2
    assert document["root_cause"]["file"].endswith("bad_bias.py")


def test_a_folder_with_two_failing_files_says_two_failing_in_text_and_json(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    write(folder, "alice.py", AFFINE.format(axis=1))
    write(folder, "bob.py", SIGMOID_WRONG)
    write(folder, "carol.py", AFFINE.format(axis=0))
    status, document = check_json(folder)
    assert status == 1
    assert (document["summary"]["files"], document["summary"]["failing"]) == (3, 2)
    text = run("check", str(folder), "--no-training")
    assert text.returncode == 1
    assert "2 failing" in text.stdout
