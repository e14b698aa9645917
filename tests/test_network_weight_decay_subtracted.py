"""The book's `MultiLayerNet` with weight decay whose `gradient` subtracts the penalty's term
(`dW - weight_decay_lambda * W`) where `loss` adds the penalty (`+ 0.5 * weight_decay_lambda * ΣW²`).

Every layer's own gradient is right and the network's is not, so the finding said "fix the layer
whose gradient is wrong" at the network's last gradient line; the term's sign is the mistake, at the
statement that stores the weights' gradients. The program is the one of
tests/test_network_weight_decay_left_out.py (written for the tests), with that sign flipped.
"""

from __future__ import annotations

from tests.test_network_weight_decay_left_out import PROGRAM
from tests.userfiles import check, errors, line_of, planted

RIGHT = "grads['W' + str(idx)] = affines[idx - 1].dW + self.weight_decay_lambda * self.params['W' + str(idx)]"
WRONG = "grads['W' + str(idx)] = affines[idx - 1].dW - self.weight_decay_lambda * self.params['W' + str(idx)]"


def test_a_penalty_subtracted_from_the_weights_gradient_is_named_at_its_statement(tmp_path):
    path = planted(tmp_path, "decay_net.py", PROGRAM, RIGHT, WRONG)
    report = check(path)
    weights = [f for f in errors(report) if f["code"] == "BPD101" and f["param"].startswith("W")]
    assert weights, report["findings"]
    at, added = line_of(path, WRONG), line_of(path, "weight_decay += 0.5")
    for finding in weights:
        assert finding["line"] == at and finding["pattern"] == "penalty-sign-flipped", finding
        assert set(finding["highlight"]) == {at, added}
        assert f"adds a penalty scaled by `self.weight_decay_lambda` (line {added}), and line {at}" in finding["message"]
        assert "fix the layer whose gradient is wrong" not in finding["message"]


def test_the_penalty_added_in_both_has_no_error(tmp_path):
    path = planted(tmp_path, "decay_net.py", PROGRAM, RIGHT, RIGHT)
    report = check(path)
    assert not errors(report), errors(report)
