"""softmax-not-per-row (BPD301): the cases its mutation run showed no test telling apart.

Real user files written to `tmp_path` and checked in-process by `check_file`, so mutmut sees
every line of the check: which functions and methods are called on a batch, the loss layer's
kept probabilities on either side of the smallest batch it is probed with, a softmax whose
reductions the static reading does not recognise, a file that writes `axis=1`, several
reductions on one line (nested, or two statements), a softmax that returns a tuple or draws
random numbers, and a softmax only used to sample a token. Each buggy file has a correct twin
or a boundary neighbour; every line number is found in the file's text.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from backprop_doctor import probes
from backprop_doctor.options import Options
from backprop_doctor.pipeline import check_file

RULE = "softmax-not-per-row"
BATCH_SUM = "adds up the whole batch, so all rows together sum to 1 instead of each row"
GLOBAL_MAX = (
    "takes one maximum over the whole batch; shifting by it is harmless only when the sum is per row, "
    "and here it is not"
)


@pytest.fixture(autouse=True)
def restored_interpreter():
    saved = list(sys.path), list(sys.meta_path), set(sys.modules), np.random.get_state()
    yield
    sys.path[:], sys.meta_path[:] = saved[0], saved[1]
    np.random.set_state(saved[3])
    for name in set(sys.modules) - saved[2]:
        if name.startswith("__bpd") or type(sys.modules[name]).__name__ == "StubModule":
            del sys.modules[name]


def checked(tmp_path: Path, text: str, **options):
    """The file's softmax-not-per-row findings; no check may have crashed on it."""
    path = tmp_path / "net.py"
    path.write_text(text, encoding="utf-8")
    report = check_file(path, Options(training=False, **options))
    assert "internal_errors" not in report.extras, report.extras.get("internal_errors")
    return str(path), report.by_name(RULE)


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def column_of(text: str, needle: str) -> int:
    """1-based column of `needle` on its line."""
    return text.splitlines()[line_of(text, needle) - 1].index(needle) + 1


def probe_scores(batch_size: int = 5, seed: int = 0) -> np.ndarray:
    """The scores the check calls a softmax on (seed + 301, `batch_size` rows, 4 classes)."""
    n = max(batch_size, 2)
    return np.random.default_rng(seed + 301).standard_normal((n, 4 if n != 4 else 5))


def shown(sums: np.ndarray) -> str:
    return ", ".join(f"{v:.3g}" for v in sums.ravel()[:8]) + (", ..." if sums.size > 8 else "")


def whole_batch_sums(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - np.max(x))
    return (e / np.sum(e)).sum(axis=1)


def row_sums_evidence(finding) -> list[str]:
    return [text for label, text in finding.evidence if label == "row sums"]


# --------------------------------------------------------------------------- what is called


METHODS = """\
import numpy as np


class Output:
    def __init__(self):
        self.temperature = 1.0

    def normalise(self, x):
        return np.abs(x) / np.sum(np.abs(x))

    def softmax(self, x, temperature):
        e = np.exp(x / temperature)
        return e / np.sum(e, axis=1, keepdims=True)

    def stable_softmax(self, x):
        e = np.exp(x - np.max(x))
        return e / np.sum(e)

    def forward(self, x):
        return self.stable_softmax(x)

    def backward(self, dout):
        return dout
"""


def test_every_softmax_named_method_taking_the_scores_is_probed_and_no_other_method(tmp_path):
    """`__init__`, `normalise` (not a softmax by name: an L1 normalisation of the whole array) and a
    `softmax` that needs a temperature too come before `stable_softmax` by name; none of them is
    called, and none stops the search."""
    path, [finding] = checked(tmp_path, METHODS)
    shift, line = line_of(METHODS, "e = np.exp(x - np.max(x))"), line_of(METHODS, "return e / np.sum(e)")
    assert (finding.layer, finding.file, finding.line, finding.highlight) == ("Output.stable_softmax", path, line, (shift, line))
    assert finding.column == METHODS.splitlines()[line - 1].index("np.sum(e)") + 1
    assert row_sums_evidence(finding) == [
        f"`Output.stable_softmax` on random scores of shape (5, 4): {shown(whole_batch_sums(probe_scores()))} "
        "(each should be 1)"
    ]
    assert dict(finding.evidence)["reductions"] == (
        f"line {shift}: `np.max(x)` {GLOBAL_MAX}\nline {line}: `np.sum(e)` {BATCH_SUM}"
    )
    # the file writes `axis=1` and never `axis=-1`: the rewrite follows it
    assert finding.message.endswith("reduce over axis 1 with keepdims=True")
    assert finding.fix == "e = np.exp(x - np.max(x, axis=1, keepdims=True))\nreturn e / np.sum(e, axis=1, keepdims=True)"


def test_the_correct_twin_of_the_methods_is_not_reported(tmp_path):
    text = METHODS.replace("np.max(x))", "np.max(x, axis=1, keepdims=True))").replace(
        "return e / np.sum(e)\n", "return e / np.sum(e, axis=1, keepdims=True)\n"
    )
    assert checked(tmp_path, text)[1] == []


INHERITED = """\
import numpy as np


class Base:
    def softmax(self, x):
        e = np.exp(x)
        return e / np.sum(e)

    def backward(self, dout):
        return dout


class First(Base):
    def forward(self, x):
        return self.softmax(x)


class Second(Base):
    def forward(self, x):
        return 2 * self.softmax(x)
"""


def test_a_softmax_two_layers_inherit_is_probed_once(tmp_path):
    _, [finding] = checked(tmp_path, INHERITED)
    assert (finding.layer, finding.line) == ("Base.softmax", line_of(INHERITED, "return e / np.sum(e)"))
    e = np.exp(probe_scores())
    assert row_sums_evidence(finding) == [
        f"`Base.softmax` on random scores of shape (5, 4): {shown((e / e.sum()).sum(axis=1))} (each should be 1)"
    ]


NAMED = """\
import numpy as np


def {name}(x):
    e = np.exp(x)
    return e / e.sum()


class Scale:
    def forward(self, x):
        return 2 * x

    def backward(self, dout):
        return 2 * dout
"""


@pytest.mark.parametrize("name, reported", [("log_softmax", False), ("softmax", True)])
def test_a_function_whose_name_says_log_is_not_called_whatever_it_returns(tmp_path, name, reported):
    text = NAMED.format(name=name)
    found = checked(tmp_path, text)[1]
    assert [(f.layer, f.line) for f in found] == ([(name, line_of(text, "return e / e.sum()"))] if reported else [])


SAMPLER = """\
import numpy as np


def softmax(logits):
    e = np.exp(logits - logits.max())
    return e / e.sum()


class Linear:
    def __init__(self, W):
        self.W = W

    def forward(self, x):
        self.x = x
        return x @ self.W

    def backward(self, dout):
        self.dW = self.x.T @ dout
        return dout @ self.W.T
"""

SAMPLING = """

def generate(layer, x, steps, rng):
    tokens = []
    for _ in range(steps):
        logits = layer.forward(x)[0]
        tokens.append(rng.choice(len(logits), p=softmax(logits)))
    return tokens
"""


def test_a_softmax_only_used_to_draw_a_token_is_not_called_on_a_batch(tmp_path):
    assert checked(tmp_path, SAMPLER + SAMPLING)[1] == []


def test_the_same_softmax_without_the_sampler_is_reported(tmp_path):
    _, [finding] = checked(tmp_path, SAMPLER)
    assert (finding.layer, finding.line) == ("softmax", line_of(SAMPLER, "return e / e.sum()"))


# --------------------------------------------------------------------------- what it returns


TUPLE = """\
import numpy as np


def softmax(x):
    e = np.exp(x - np.max(x))
    return e / np.sum(e), e


class Scale:
    def forward(self, x):
        return 2 * x

    def backward(self, dout):
        return 2 * dout
"""


def test_a_softmax_returning_a_tuple_is_left_alone_without_crashing_the_check(tmp_path):
    assert checked(tmp_path, TUPLE)[1] == []


NOISY = """\
import numpy as np


def softmax(x):
    e = np.exp(x + 0.5 * np.random.randn(*x.shape))
    return e / np.sum(e)
"""


def test_a_softmax_drawing_random_numbers_is_called_with_the_forward_seed(tmp_path):
    _, [finding] = checked(tmp_path, NOISY)
    x = probe_scores()
    np.random.seed(probes.FORWARD_SEED)
    e = np.exp(x + 0.5 * np.random.randn(*x.shape))
    assert row_sums_evidence(finding) == [
        f"`softmax` on random scores of shape (5, 4): {shown((e / np.sum(e)).sum(axis=1))} (each should be 1)"
    ]


# --------------------------------------------------------------------------- the finding's words


UNRECOGNISED = """\
import numpy as np


def softmax(x):
    e = np.exp(x)
    return e / np.einsum("ij->", e)
"""


def test_a_batch_wide_sum_the_static_reading_does_not_recognise_points_at_the_def_line(tmp_path):
    path, [finding] = checked(tmp_path, UNRECOGNISED)
    line = line_of(UNRECOGNISED, "def softmax")
    assert (finding.file, finding.line, finding.column, finding.highlight) == (path, line, None, (line,))
    assert finding.message == (
        "the softmax in `softmax` normalises across the whole batch: every row sums to about 1/N instead of 1, "
        "N being the batch size (0.2 for the 5 samples backprop-doctor probed with) and every gradient is wrong; "
        "normalise each row (axis=-1, keepdims=True)"
    )
    assert finding.fix == "return exp_x / np.sum(exp_x, axis=-1, keepdims=True)"
    e = np.exp(probe_scores())
    assert finding.evidence == (
        ("row sums", f"`softmax` on random scores of shape (5, 4): {shown((e / e.sum()).sum(axis=1))} (each should be 1)"),
    )


NESTED = """\
import numpy as np


def softmax(x):
    return np.exp(x - np.max(x)) / np.sum(np.exp(x - np.max(x)))
"""


def test_reductions_nested_on_one_line_get_the_whole_function_rewritten(tmp_path):
    """The sum holds the second `np.max(x)`: editing the line piece by piece would garble it."""
    _, [finding] = checked(tmp_path, NESTED)
    line = line_of(NESTED, "return np.exp")
    assert (finding.line, finding.column, finding.highlight) == (line, column_of(NESTED, "np.sum("), (line,))
    assert finding.fix == (
        "def softmax(x):\n    return np.exp(x - np.max(x, axis=-1, keepdims=True)) / "
        "np.sum(np.exp(x - np.max(x, axis=-1, keepdims=True)), axis=-1, keepdims=True)"
    )
    assert dict(finding.evidence)["reductions"] == "\n".join(
        [f"line {line}: `np.sum(np.exp(x - np.max(x)))` {BATCH_SUM}"] + [f"line {line}: `np.max(x)` {GLOBAL_MAX}"] * 2
    )


TWO_STATEMENTS = """\
import numpy as np


def softmax(x):
    e = np.exp(x - np.max(x)); return e / np.sum(e)
"""


def test_two_reductions_side_by_side_on_one_line_are_both_rewritten_in_place(tmp_path):
    _, [finding] = checked(tmp_path, TWO_STATEMENTS)
    line = line_of(TWO_STATEMENTS, "return e")
    assert (finding.line, finding.column, finding.highlight) == (line, column_of(TWO_STATEMENTS, "np.sum(e)"), (line,))
    assert finding.fix == "e = np.exp(x - np.max(x, axis=-1, keepdims=True)); return e / np.sum(e, axis=-1, keepdims=True)"


# --------------------------------------------------------------------------- a loss layer's kept probabilities


LOSS_LAYER = """\
import numpy as np


def softmax(x):
    e = np.exp(x - np.max(x))
    return e / np.sum(e)


class SoftmaxWithLoss:
    def forward(self, x, t):
        self.x = x
        self.y = softmax(x)
        self.t = t
        return -np.sum(t * np.log(self.y + 1e-7)) / x.shape[0]

    def backward(self, dout=1):
        return dout * (self.y - self.t) / self.t.shape[0]
"""

NETWORK = """

class Affine:
    def __init__(self, W, b):
        self.W, self.b = W, b

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T


class Net:
    def __init__(self):
        self.params = {'W': 0.1 * np.random.randn(6, 3), 'b': np.zeros(3)}
        self.layers = [Affine(self.params['W'], self.params['b'])]
        self.last = SoftmaxWithLoss()

    def predict(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        return self.last.forward(self.predict(x), t)

    def gradient(self, x, t):
        self.loss(x, t)
        self.layers[0].backward(self.last.backward(1))
        return {'W': self.layers[0].dW, 'b': self.layers[0].db}
"""


def kept_sums(row: str) -> list[float]:
    return [float(v) for v in row.split(": ", 1)[1].removesuffix(" (each should be 1)").split(", ")]


def test_a_loss_layer_in_a_network_is_measured_on_the_networks_scores_and_they_come_first(tmp_path):
    """The layer keeps the raw scores (`self.x`) before its probabilities: both are read."""
    text = LOSS_LAYER + NETWORK
    _, [finding] = checked(tmp_path, text)
    line = line_of(text, "return e / np.sum(e)")
    assert (finding.layer, finding.line) == ("softmax", line)
    assert finding.message == (
        f"the softmax in `softmax` normalises across the whole batch (line {line}): `np.sum(e)` reduces over the "
        "whole array, so every row sums to about 1/N instead of 1, N being the batch size (0.2 for the 5 samples "
        "backprop-doctor probed with) and every gradient is wrong; reduce over axis -1 with keepdims=True"
    )
    kept, probed = row_sums_evidence(finding)
    assert kept.startswith("`SoftmaxWithLoss.y` after forward on the scores `Net` feeds it: ")
    sums = kept_sums(kept)
    assert len(sums) == 5 and sum(sums) == pytest.approx(1.0, abs=0.01)
    assert finding.measured == pytest.approx(max(abs(v - 1) for v in sums), abs=1e-3)
    assert probed == f"`softmax` on random scores of shape (5, 4): {shown(whole_batch_sums(probe_scores()))} (each should be 1)"


@pytest.mark.parametrize("batch_size, kept_rows", [(1, None), (2, 2), (3, 3)])
def test_a_loss_layer_is_probed_from_a_batch_of_two_samples(tmp_path, batch_size, kept_rows):
    """Just below the smallest batch (one sample) only the softmax function's own probe (which
    always uses two rows at least) is shown; from two samples on, the layer's kept rows come first."""
    _, [finding] = checked(tmp_path, LOSS_LAYER, batch_size=batch_size)
    rows = row_sums_evidence(finding)
    probed = probe_scores(batch_size)
    assert rows[-1] == (
        f"`softmax` on random scores of shape {probed.shape}: {shown(whole_batch_sums(probed))} (each should be 1)"
    )
    if kept_rows is None:
        assert len(rows) == 1
    else:
        assert len(rows) == 2
        assert rows[0].startswith(f"`SoftmaxWithLoss.y` after forward on a batch of scores of shape ({kept_rows}, 4): ")
        assert len(kept_sums(rows[0])) == kept_rows
        assert f"({1 / kept_rows:.3g} for the {kept_rows} samples backprop-doctor probed with)" in finding.message


def test_the_correct_twin_of_the_loss_layer_is_not_reported(tmp_path):
    text = (LOSS_LAYER + NETWORK).replace("np.max(x))", "np.max(x, axis=-1, keepdims=True))").replace(
        "return e / np.sum(e)", "return e / np.sum(e, axis=-1, keepdims=True)"
    )
    assert checked(tmp_path, text)[1] == []


# --------------------------------------------------------------------------- a context without discovery


def test_run_on_a_context_built_without_discovery_reads_the_softmax_from_the_namespace(tmp_path):
    """A caller that runs the check alone (no `discovered` in the context's extras) still finds
    the user's own softmax among the file's globals; its correct twin gives nothing."""
    import runpy

    from backprop_doctor.checks import softmax_not_per_row
    from backprop_doctor.context import CheckContext
    from backprop_doctor.loading.source import read_source

    def run(text: str):
        path = tmp_path / "alone.py"
        path.write_text(text, encoding="utf-8")
        source, _ = read_source(str(path))
        context = CheckContext(options=Options(training=False), source=source, namespace=runpy.run_path(str(path)))
        assert "discovered" not in context.extras
        return list(softmax_not_per_row.run(context))

    [finding] = run(NOISY.replace(" + 0.5 * np.random.randn(*x.shape)", ""))
    assert (finding.layer, finding.line) == ("softmax", line_of(NOISY, "return e / np.sum(e)"))
    assert run(NOISY.replace(" + 0.5 * np.random.randn(*x.shape)", "").replace("np.sum(e)", "np.sum(e, axis=-1, keepdims=True)")) == []
