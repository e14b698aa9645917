"""A momentum optimizer whose velocity starts as the parameter itself (`self.v[key] = val` in
`for key, val in params.items()`) moves the parameters the wrong way on its first step: the finding
names that line and says to start the velocity at zero, not to flip the update's sign."""

from tests.userfiles import check, errors, line_of, planted

MOMENTUM = """
    import numpy as np


    class Momentum:
        def __init__(self, lr=0.01, momentum=0.9):
            self.lr, self.momentum, self.v = lr, momentum, None

        def update(self, params, grads):
            if self.v is None:
                self.v = {}
                for key, val in params.items():
                    self.v[key] = np.zeros_like(val)
            for key in params.keys():
                self.v[key] = self.momentum * self.v[key] - self.lr * grads[key]
                params[key] += self.v[key]
"""


def test_a_velocity_started_at_zero_is_clean(tmp_path):
    assert errors(check(planted(tmp_path, "optim.py", MOMENTUM, "np.zeros_like(val)", "np.zeros_like(val)"))) == []


def test_a_velocity_started_as_the_parameter_is_named_at_its_line(tmp_path):
    path = planted(tmp_path, "optim.py", MOMENTUM, "self.v[key] = np.zeros_like(val)", "self.v[key] = val")
    (found,) = errors(check(path))
    assert (found["code"], found["line"]) == ("BPD206", line_of(path, "self.v[key] = val"))
    assert "start it at zero" in found["message"] and "subtracted where it is added" not in found["message"]
