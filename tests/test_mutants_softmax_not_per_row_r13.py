"""softmax-not-per-row, thirteenth round (issue 15): a softmax found in a local of a bigger function (a
training loop's own function, a loss function) is judged by the reductions that compute that local only;
the fix of a softmax on a file's last line; networks the prediction probe reaches. Real files checked in
this process; every line from the file's text."""

from __future__ import annotations

import textwrap

import pytest

from inprocess import checked, edited, line_of, program_runs, restored_interpreter  # noqa: F401 - fixtures used by name
from test_mutants_softmax_not_per_row_r12 import ONE_ROW_AT_A_TIME
from test_softmax_inside_loss_functions import TRAINING

RULE = "softmax-not-per-row"


def softmaxes(findings):
    return [f for f in findings if f.name == RULE]


def test_a_right_training_loop_that_scales_its_probabilities_by_the_batch_has_no_softmax_finding(tmp_path, program_runs):
    """`delta3 = probs / len(X)` sums to 1 over the whole batch, as a softmax over the batch would, but nothing
    that computes it reduces over the batch: the sum the loop's bias gradient takes of it afterwards
    (`db2 = np.sum(delta3, axis=0, keepdims=True)`) is not its softmax's (it was reported, with that line as the
    softmax's wrong reduction)."""
    text = edited(
        TRAINING,
        ("delta3 = probs\n", "delta3 = probs / len(X)\n"),
        ("delta3[range(len(X)), y] -= 1\n", "delta3[range(len(X)), y] -= 1 / len(X)\n"),
        ("        delta3 /= len(X)\n", ""),
    )
    _, findings = checked(tmp_path, "train.py", text)
    assert softmaxes(findings) == [] and [f for f in findings if f.severity == "error"] == []


LAST_LINE = """\
import numpy as np


def softmax(x):
    return np.exp(x - np.max(x)) / np.sum(np.exp(x - np.max(x)))"""


def test_a_softmax_on_the_files_last_line_gets_that_line_rewritten(tmp_path):
    """Reductions nested in one another: the fix is the whole function rewritten from the file's own text,
    its last line included as it is written."""
    path, findings = checked(tmp_path, "softmax.py", LAST_LINE)
    (finding,) = softmaxes(findings)
    line = line_of(path, "return np.exp(")
    assert (finding.severity, finding.line, finding.highlight) == ("error", line, (line,))
    assert finding.fix == (
        "def softmax(x):\n"
        "    return np.exp(x - np.max(x, axis=-1, keepdims=True)) / np.sum(np.exp(x - np.max(x, axis=-1, keepdims=True)), axis=-1, keepdims=True)"
    )


def _one_file(features: int = 10, batch: int = 20) -> str:
    """The book's chapter 4 project in one file: its functions (the softmax over the whole batch), the
    network whose `predict` calls that softmax, and the script training it on batches of `batch` rows."""
    from test_numerical_networks import FUNCTIONS, NETWORK, SCRIPT

    functions = textwrap.dedent(FUNCTIONS).replace("np.sum(e, axis=-1, keepdims=True)", "np.sum(e)")
    network = textwrap.dedent(NETWORK).split("class TwoLayerNet", 1)[1]
    script = textwrap.dedent(SCRIPT).split("from two_layer_net import TwoLayerNet\n", 1)[1]
    script = script.replace("np.random.rand(60, 10)", f"np.random.rand(60, {features})").replace("input_size=10", f"input_size={features}")
    return functions + "\n\nclass TwoLayerNet" + network + "\n\n" + script.replace("np.random.choice(60, 20)", f"np.random.choice(60, {batch})")


@pytest.mark.parametrize(("features", "batch_size"), [(10, 5), (1, 5), (10, 2)], ids=["batch", "one-feature", "two-rows"])
def test_a_softmax_the_script_defines_and_its_network_calls_is_one_finding_that_shows_the_networks_measurement_first(
    tmp_path, program_runs, features, batch_size
):
    """Found twice, on its own (random scores) and through the network's `predict` (the network's own batch,
    also of one feature or of two rows): one finding, whose measurements put the network's first."""
    path, findings = checked(tmp_path, "train.py", _one_file(features), batch_size=batch_size)
    (finding,) = softmaxes(findings)
    line = line_of(path, "return e / np.sum(e)")
    assert (finding.severity, finding.line, finding.layer) == ("error", line, "softmax")
    labels = [label for label, _ in finding.evidence]
    assert labels == ["row sums", "row sums", "reductions"]
    network, alone = finding.evidence[0][1], finding.evidence[1][1]
    assert network.startswith("`TwoLayerNet.predict` on a batch of shape (") and alone.startswith("`softmax` on random scores of shape (")
    assert network.startswith(f"`TwoLayerNet.predict` on a batch of shape ({batch_size}, {features})")
    n = int(network.split("batch of shape (")[1].split(",")[0])
    assert f"({1 / n:.3g} for the {n} samples backprop-doctor probed with)" in finding.message



LOSS_LAYER = """\
import numpy as np


class SoftmaxLoss:
    def forward(self, scores, labels):
        self.labels = labels
        e = np.exp(scores - np.max(scores))
        self.probs = e / np.sum(e)
        n = scores.shape[0]
        return -np.sum(np.log(self.probs[np.arange(n), labels] + 1e-12)) / n

    def backward(self, dout=1):
        n = self.probs.shape[0]
        d = self.probs.copy()
        d[np.arange(n), self.labels] -= 1
        return d / n
"""


@pytest.mark.parametrize(("forward", "backward"), [("forward", "backward"), ("forward_pass", "backward_pass"), ("fprop", "bprop")])
def test_a_loss_layers_own_softmax_over_the_batch_is_found_under_its_conventions_names(tmp_path, forward, backward):
    """The softmax written in a loss layer's forward, whatever the layer's convention calls it (a renamed
    pair's loss layer had no softmax finding: its forward was looked up as `forward` alone)."""
    text = LOSS_LAYER.replace("def forward(", f"def {forward}(").replace("def backward(", f"def {backward}(")
    path, findings = checked(tmp_path, "loss.py", text)
    (finding,) = softmaxes(findings)
    shift, total = line_of(path, "np.max(scores)"), line_of(path, "e / np.sum(e)")
    assert (finding.severity, finding.layer, finding.file, finding.line, finding.highlight) == (
        "error", f"SoftmaxLoss.{forward}", str(path), total, (shift, total)
    )
    assert finding.message.startswith(f"the softmax in `SoftmaxLoss.{forward}` normalises across the whole batch (line {total}): `np.sum(e)`")
    assert finding.evidence[0][1].startswith("`SoftmaxLoss.probs` after forward on a batch of scores of shape (")


PER_SAMPLE_AND_BATCH = (
    edited(ONE_ROW_AT_A_TIME, ("def softmax(v)", "def softmax_one(v)"), ("print(softmax(x @ W))", "print(softmax_one(x @ W))"),
           ("\n\nrng = ", "\n\ndef softmax(z):\n    e = np.exp(z - np.max(z))\n    return e / np.sum(e)\n\n\nrng = "))
    + "print(softmax(rng.normal(size=(6, 4)) @ W))\n"
)  # the twelfth round's program, its softmax now given one sample at a time, and a softmax given the batch


def test_a_softmax_given_one_sample_at_a_time_does_not_hide_the_next_one(tmp_path, program_runs):
    """`softmax_one` only ever gets one sample, so its whole-array sum is right; `softmax`, defined after it,
    gets a batch and is still probed."""
    path, findings = checked(tmp_path, "two.py", PER_SAMPLE_AND_BATCH)
    (finding,) = softmaxes(findings)
    assert (finding.layer, finding.line) == ("softmax", line_of(path, "return e / np.sum(e)", after=line_of(path, "def softmax(z)")))
