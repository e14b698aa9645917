"""step-update-lost (BPD613), eleventh mutation round: a lost update made by a helper another file
of the program defines, replayed in this process with `replay_file` (a CLI test's child process
kills no mutant). The finding is placed in that file, at the update.
"""

from __future__ import annotations

from inprocess import replayed_findings, restored_interpreter  # noqa: F401 - fixtures used by name
from test_step_update_lost import BY_A_FUNCTION

from backprop_doctor.checks import step_update_lost


def test_an_update_lost_in_a_helper_of_another_file_is_found_there(tmp_path, monkeypatch):
    """`optim.sgd` binds a new array to its argument: every update of the loop is in `optim.py`
    (importable from the script's folder, as when the program runs there)."""
    monkeypatch.syspath_prepend(str(tmp_path))
    optim = tmp_path / "optim.py"
    optim.write_text("def sgd(W, dW, lr):\n    W = W - lr * dW\n", encoding="utf-8")
    script = tmp_path / "train.py"
    script.write_text(BY_A_FUNCTION.replace("\n\ndef sgd(W, dW, lr):\n    W -= lr * dW\n", "\nfrom optim import sgd\n"), encoding="utf-8")
    (result,), (f,) = replayed_findings(script, step_update_lost)
    assert result.lost and {site.file for site in result.step.updates} == {str(optim)}
    assert (f.file, f.line, f.highlight) == (str(optim), 2, (2,))
    assert f"over {len(result.curve)} replayed steps although its gradients are not zero: the update (line 2) moves" in f.message
