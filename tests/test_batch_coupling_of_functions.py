"""batch-coupling on cs231n-style function pairs and loss functions, in-process through `check_file`.

A pair `center_forward(x) -> (out, cache)` / `center_backward(dout, cache) -> dx` is named by its
functions (not `center_forward.forward`); a `softmax_loss(x, y) -> (loss, dx)` whose softmax sums
over the batch is pointed at that sum, and its fix leaves the loss's own sum over the batch alone.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from backprop_doctor.options import Options
from backprop_doctor.pipeline import check_file

PAIRS = """\
import numpy as np


def center_forward(x):
    out = x - np.mean(x)
    cache = x
    return out, cache


def center_backward(dout, cache):
    return dout


def scale_forward(x):
    return 3.0 * x, x


def scale_backward(dout, cache):
    dx = 3.0 * (dout - dout.mean(axis=0))
    return dx


def tanh_forward(x):
    out = np.tanh(x)
    return out, out


def tanh_backward(dout, cache):
    return dout * (1 - cache ** 2)
"""

LOSS_FUNCTION = """\
import numpy as np


def softmax_loss(x, y):
    shifted = x - np.max(x)
    probs = np.exp(shifted) / np.sum(np.exp(shifted))
    n = x.shape[0]
    log_likelihood = np.sum(np.log(probs[np.arange(n), y]))
    loss = -log_likelihood / n
    dx = probs.copy()
    dx[np.arange(n), y] -= 1
    dx /= n
    return loss, dx
"""


@pytest.fixture(autouse=True)
def restored_interpreter():
    saved = list(sys.path), list(sys.meta_path), set(sys.modules)
    yield
    sys.path[:], sys.meta_path[:] = saved[0], saved[1]
    for name in set(sys.modules) - saved[2]:
        if name.startswith("__bpd") or type(sys.modules[name]).__name__ == "StubModule":
            del sys.modules[name]


def coupling(tmp_path: Path, text: str, **options):
    path = tmp_path / "layers.py"
    path.write_text(text, encoding="utf-8")
    report = check_file(path, Options(training=False, **options))
    return str(path), {f.layer: f for f in report.by_name("batch-coupling")}


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def column_of(text: str, needle: str, call: str) -> int:
    return text.splitlines()[line_of(text, needle) - 1].index(call) + 1


def test_a_pair_whose_forward_takes_the_batch_mean_is_named_by_its_forward_function(tmp_path):
    path, found = coupling(tmp_path, PAIRS)
    assert sorted(found) == ["center_forward", "scale_forward"]  # tanh_forward keeps its rows apart
    center = found["center_forward"]
    line = line_of(PAIRS, "out = x - np.mean(x)")
    assert (center.file, center.line, center.column, center.highlight) == (
        path, line, column_of(PAIRS, "out = x - np.mean(x)", "np.mean"), (line,)
    )
    assert re.fullmatch(
        rf"`center_forward` mixes the samples of a batch \(line {line}\): `np\.mean\(x\)` reduces over the whole "
        r"batch \(no axis\), so changing sample \d changes the output of sample \d \(by [\d.]+% of the output's "
        r"largest value\); reduce over each sample's own features \(axis=1, keepdims=True\)",
        center.message,
    ), center.message
    assert center.fix == "out = x - np.mean(x, axis=1, keepdims=True)"
    assert center.severity == "error" and center.threshold == 1e-9 and 1e-3 < center.measured < 1
    assert re.fullmatch(
        r"checked on a batch of 5 \(x \(5, 6\)\), input \(5, 6\): sample \d → output of sample \d, "
        r"relative change [\d.e-]+ \(threshold 1e-09\)",
        dict(center.evidence)["coupling"],
    )
    assert dict(center.evidence)["reductions"] == f"line {line}: `np.mean(x)` reduces over the whole batch (no axis)"


def test_a_pair_whose_backward_averages_dout_over_the_batch_is_named_by_its_backward_function(tmp_path):
    path, found = coupling(tmp_path, PAIRS)
    scale = found["scale_forward"]
    line = line_of(PAIRS, "dx = 3.0 * (dout - dout.mean(axis=0))")
    assert (scale.file, scale.line, scale.column, scale.highlight) == (
        path, line, column_of(PAIRS, "dx = 3.0 *", "dout.mean"), (line,)
    )
    assert re.fullmatch(
        rf"`scale_backward` mixes the samples of a batch \(line {line}\): an upstream gradient on sample \d alone "
        r"gives sample \d a dx of 25% of dx's largest value, although forward keeps the samples apart "
        r"\(`dout\.mean\(axis=0\)` reduces over axis 0, the batch axis\); send each sample's gradient back to "
        r"that sample only",
        scale.message,
    ), scale.message
    assert scale.measured == pytest.approx(0.25)  # batch of 5: dx[j] = -3·dout[i]/5 beside dx[i] = 3·dout[i]·4/5
    assert scale.fix == "dx = 3.0 * (dout - dout.mean(axis=1, keepdims=True))"
    assert (scale.layer, scale.severity, scale.threshold) == ("scale_forward", "error", 1e-9)


def test_a_softmax_loss_function_is_pointed_at_its_softmax_sum_and_its_fix_keeps_the_loss_sum(tmp_path):
    """The softmax inside the loss function is itself found (`softmax-not-per-row`, from the rows its
    locals hold); the coupling it causes is that finding's symptom, at the same sum."""
    path, found = coupling(tmp_path, LOSS_FUNCTION)
    [loss] = found.values()
    line = line_of(LOSS_FUNCTION, "probs = np.exp(shifted) / np.sum(np.exp(shifted))")
    shift = line_of(LOSS_FUNCTION, "shifted = x - np.max(x)")
    report = check_file(path, Options(training=False))
    [softmax] = report.by_name("softmax-not-per-row")
    assert (softmax.layer, softmax.file, softmax.line, softmax.severity) == ("softmax_loss", path, line, "error")
    assert "`np.sum(np.exp(shifted))` reduces over the whole array" in softmax.message
    # the sum is named first although the max comes first in the file; both are highlighted
    assert (loss.layer, loss.file, loss.line, loss.highlight) == ("softmax_loss", path, line, (shift, line))
    assert loss.caused_by == softmax.key()
    assert loss.column == column_of(LOSS_FUNCTION, "probs = np.exp", "np.sum")
    assert (loss.severity, loss.threshold) == ("error", 1e-9) and 1e-3 < loss.measured < 1
    assert re.fullmatch(
        r"`softmax_loss` couples the samples through `softmax_loss` \(line \d+\): changing the scores of sample \d "
        r"changes row \d of its gradient dx \(by [\d.]+% of dx's largest value\); row i of dx must depend on sample i "
        r"alone; normalise each row",
        loss.message,
    ), loss.message
    for finding in (loss, softmax):
        assert finding.fix == (
            "shifted = x - np.max(x, axis=-1, keepdims=True)\n"
            "probs = np.exp(shifted) / np.sum(np.exp(shifted), axis=-1, keepdims=True)"
        )
    reductions = dict(softmax.evidence)["reductions"].splitlines()
    assert [r.split(":")[0] for r in reductions] == [f"line {shift}", f"line {line}"]
    assert "`np.sum(np.exp(shifted))` adds up the whole batch" in reductions[1]
    assert re.fullmatch(
        r"checked on a batch of 5, input \(5, 4\): sample \d → dx of sample \d, relative change [\d.e-]+ "
        r"\(threshold 1e-09\)",
        dict(loss.evidence)["coupling"],
    )


def test_a_batch_wide_softmax_the_loss_function_does_not_call_is_not_named_as_its_cause(tmp_path):
    text = LOSS_FUNCTION + """

def softmax(z):
    e = np.exp(z - np.max(z))
    return e / e.sum()
"""
    path = tmp_path / "layers.py"
    path.write_text(text, encoding="utf-8")
    report = check_file(path, Options(training=False))
    softmax = {f.layer: f for f in report.by_name("softmax-not-per-row")}
    [loss] = report.by_name("batch-coupling")
    assert softmax["softmax"].line == line_of(text, "return e / e.sum()")
    assert softmax["softmax_loss"].line == line_of(text, "probs = ")  # its own softmax, read from its locals
    assert loss.caused_by == softmax["softmax_loss"].key()  # not the softmax it never calls
    assert loss.fix == (
        "shifted = x - np.max(x, axis=-1, keepdims=True)\n"
        "probs = np.exp(shifted) / np.sum(np.exp(shifted), axis=-1, keepdims=True)"
    )


def test_the_loss_function_is_probed_on_a_batch_of_the_options_batch_size_at_least_two(tmp_path):
    _, found = coupling(tmp_path, LOSS_FUNCTION, batch_size=7)
    assert dict(found["softmax_loss"].evidence)["coupling"].startswith("checked on a batch of 7, input (7, 4): ")
    _, found = coupling(tmp_path, LOSS_FUNCTION, batch_size=1)
    assert dict(found["softmax_loss"].evidence)["coupling"].startswith("checked on a batch of 2, input (2, 4): ")


def test_the_same_loss_function_with_a_per_row_softmax_is_not_coupled(tmp_path):
    per_row = LOSS_FUNCTION.replace("np.sum(np.exp(shifted))", "np.sum(np.exp(shifted), axis=1, keepdims=True)").replace(
        "np.max(x)", "np.max(x, axis=1, keepdims=True)"
    )
    assert coupling(tmp_path, per_row)[1] == {}


TALLY = """\
import numpy as np


def tally_forward(x):
    total = np.sum(x)
    return 2.0 * x, total


def tally_backward(dout, cache):
    return 2.0 * (dout - dout.mean(axis=0))
"""


def test_a_backward_coupling_lists_the_reductions_of_backward_only_not_a_harmless_sum_in_forward(tmp_path):
    path, found = coupling(tmp_path, TALLY)
    tally = found["tally_forward"]
    line = line_of(TALLY, "return 2.0 * (dout - dout.mean(axis=0))")
    assert (tally.file, tally.line, tally.highlight) == (path, line, (line,))
    assert tally.message.startswith(f"`tally_backward` mixes the samples of a batch (line {line}): ")
    assert dict(tally.evidence)["reductions"] == f"line {line}: `dout.mean(axis=0)` reduces over axis 0, the batch axis"
    assert tally.fix == "return 2.0 * (dout - dout.mean(axis=1, keepdims=True))"


BN_TEST_FIRST = """\
import numpy as np


def batchnorm_forward(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    running_mean = bn_param.get("running_mean", np.zeros(x.shape[1]))
    running_var = bn_param.get("running_var", np.ones(x.shape[1]))
    if mode == "test":
        xhat = (x - running_mean) / np.sqrt(running_var + 1e-5)
    else:
        mu, var = x.mean(axis=0), x.var(axis=0)
        xhat = (x - mu) / np.sqrt(var + 1e-5)
        bn_param["running_mean"] = 0.9 * running_mean + 0.1 * mu
        bn_param["running_var"] = 0.9 * running_var + 0.1 * var
    return gamma * xhat + beta, (xhat, gamma, x)


def batchnorm_backward(dout, cache):
    xhat, gamma, x = cache
    n = dout.shape[0]
    dxhat = dout * gamma
    dx = (dxhat - dxhat.mean(axis=0) - xhat * (dxhat * xhat).mean(axis=0)) / np.sqrt(x.var(axis=0) + 1e-5)
    return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)
"""


def test_a_batchnorm_pair_is_checked_in_test_mode_only_so_its_batch_statistics_are_no_finding(tmp_path):
    # every mode but exactly "test" takes the training branch, which couples the samples by design
    assert coupling(tmp_path, BN_TEST_FIRST)[1] == {}
    coupled = BN_TEST_FIRST.replace('if mode == "test":', 'if mode == "inference":')
    _, found = coupling(tmp_path, coupled)
    assert sorted(found) == ["batchnorm_forward"]
    assert found["batchnorm_forward"].message.startswith("`batchnorm_forward` mixes the samples of a batch (line ")


TEMPORAL = """\
import numpy as np


def temporal_affine_forward(x, w, b):
    out = x @ w + b - x.mean()
    return out, (x, w)


def temporal_affine_backward(dout, cache):
    x, w = cache
    return dout @ w.T, np.einsum("ntd,ntm->dm", x, dout), dout.sum(axis=(0, 1))
"""


def test_a_sequence_input_is_reduced_per_sample_over_its_time_and_feature_axes(tmp_path):
    _, found = coupling(tmp_path, TEMPORAL)
    finding = found["temporal_affine_forward"]
    assert finding.fix == "out = x @ w + b - x.mean(axis=(1, 2), keepdims=True)"
    assert finding.message.endswith("reduce over each sample's own features (axis=(1, 2), keepdims=True)")


NLL_LOSS = """\
import numpy as np


def softmax_loss(x, y):
    probs = np.exp(x) / np.sum(np.exp(x))
    n = x.shape[0]
    nll = -np.log(probs[np.arange(n), y])
    data_loss = np.sum(nll) / n
    dx = probs.copy()
    dx[np.arange(n), y] -= 1
    return data_loss, dx / n
"""


def test_a_loss_sum_without_a_log_in_it_is_left_out_of_the_fix_by_the_name_it_is_assigned_to(tmp_path):
    _, found = coupling(tmp_path, NLL_LOSS)
    loss = found["softmax_loss"]
    line = line_of(NLL_LOSS, "probs = np.exp(x)")
    assert (loss.line, loss.highlight) == (line, (line,))
    assert loss.fix == "probs = np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)"
