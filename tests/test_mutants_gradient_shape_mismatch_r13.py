"""gradient-shape-mismatch, thirteenth round (issue 15; its completion in `run` never measured before): a
network's bias gradients of shape (1, H) are an info when the program's own training step reshapes them
before its update, at their lines and with the words that say so, and stay errors where the update uses
them as they are. The CLI tests' network (`test_gradients_reshaped_before_the_update.py`), checked in this
process; every line from the file's text."""

from __future__ import annotations

from inprocess import checked, edited, line_of, program_runs, restored_interpreter  # noqa: F401 - fixtures used by name
from test_gradients_reshaped_before_the_update import NETWORK

RESHAPE = '            for key in ("b1", "b2"):\n                grads[key] = grads[key].reshape(-1)\n'


def shapes(findings):
    return {f.param: f for f in findings if f.name == "gradient-shape-mismatch"}


def test_bias_gradients_the_training_reshapes_are_infos_that_say_so(tmp_path, program_runs):
    path, findings = checked(tmp_path, "neural_net.py", NETWORK)
    assert [f for f in findings if f.severity == "error"] == []
    found = shapes(findings)
    assert sorted(found) == ["b1", "b2"]
    for name, finding in found.items():
        assert (finding.severity, finding.pattern, finding.fix) == ("info", "right-in-training", None)
        assert finding.line == line_of(path, f"np.sum(d{'hidden' if name == 'b1' else 'scores'}, axis=0, keepdims=True)")
        ((label, shapes_seen),) = finding.evidence
        width = int(shapes_seen.split("(")[1].split(",")[0])  # the size the network was built with
        assert (label, shapes_seen) == ("shapes", f"{name}: ({width},)   gradient: (1, {width})")
        assert finding.message == (
            f"the gradient of `TwoLayerNet.{name}` has shape (1, {width}) but `{name}` has shape ({width},); your program's own "
            f"training step applies it right (`self.params['{name}']`), so it reshapes it before the update: keep the shapes "
            "equal if anything else reads this gradient"
        )
        assert ": reshape it" not in finding.message


def test_the_same_gradients_used_as_they_are_stay_errors(tmp_path, program_runs):
    _, findings = checked(tmp_path, "neural_net.py", edited(NETWORK, (RESHAPE, "")))
    found = shapes(findings)
    assert sorted(found) == ["b1", "b2"]
    assert {(f.severity, f.pattern) for f in found.values()} == {("error", None)}
    assert all("reshape it to the parameter's shape" in f.message for f in found.values())
