"""Every gradient of a network with its sign flipped, all computed from one statement (`dy = (t - y) /
batch_num`): that statement is the root, to negate once, and the four gradients its symptoms."""

from __future__ import annotations

from tests.test_term_left_out import NETWORK
from tests.userfiles import check, errors, line_of, planted


def test_one_flipped_output_gradient_is_the_root_of_every_flipped_gradient(tmp_path):
    path = planted(tmp_path, "two_layer_net.py", NETWORK, "dy = (y - t) / batch_num", "dy = (t - y) / batch_num")
    found = errors(check(path))
    (root,) = [f for f in found if not f["caused_by"]]
    assert (root["pattern"], root["line"]) == ("sign-flipped", line_of(path, "dy = (t - y) / batch_num"))
    assert "negate it there, once" in root["message"]
    assert "(`W1`, `W2`, `b1`, `b2`)" in root["message"]
    symptoms = [f for f in found if f is not root]
    assert len(symptoms) == 3 and {f["param"] for f in symptoms} < {"W1", "W2", "b1", "b2"}
    assert all(f["caused_by"] == f"BPD101:TwoLayerNet::{root['line']}" for f in symptoms)


def test_one_gradient_flipped_alone_stays_at_its_own_line(tmp_path):
    path = planted(tmp_path, "two_layer_net.py", NETWORK, "grads['b1'] = np.sum(dz1, axis=0)", "grads['b1'] = -np.sum(dz1, axis=0)")
    (found,) = errors(check(path))
    assert (found["pattern"], found["param"], found["line"]) == ("sign-flipped", "b1", line_of(path, "grads['b1'] = -np.sum(dz1, axis=0)"))
