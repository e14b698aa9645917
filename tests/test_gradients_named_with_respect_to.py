"""A backward that returns its parameters' gradients and no input gradient, each named as the derivative
of the output or the loss with respect to the parameter (`dy_dw_dec` for `self.W_dec`, `dLdW1` for
`self.W1`): the returned values are the gradients of the parameters they are named for, not (dx, ...).
Two styles: an autoencoder with four parameters in `d<out>_d<param>` names, and a first layer with two
in `dLd<param>` names; each correct layer is clean and a wrong slope in it is still reported."""

from __future__ import annotations

from pathlib import Path

from tests.userfiles import check, errors, planted, write

AUTOENCODER = """\
    import numpy as np


    class TinyAutoencoder:
        def __init__(self, n_in, n_code):
            rng = np.random.default_rng(2)
            self.W_enc = rng.normal(0.0, 0.4, (n_in, n_code))
            self.b_enc = np.zeros((1, n_code))
            self.W_dec = rng.normal(0.0, 0.4, (n_code, n_in))
            self.b_dec = np.zeros((1, n_in))

        def forward(self, X):
            self.X = X
            self.code = np.tanh(X @ self.W_enc + self.b_enc)
            self.out = 1 / (1 + np.exp(-(self.code @ self.W_dec + self.b_dec)))
            return self.out

        def backward(self, dout):
            dy_dz2 = dout * self.out * (1 - self.out)
            dy_dw_dec = self.code.T @ dy_dz2
            dy_db_dec = dy_dz2.sum(axis=0, keepdims=True)
            dy_dz1 = (dy_dz2 @ self.W_dec.T) * (1 - self.code ** 2)
            dy_dw_enc = self.X.T @ dy_dz1
            dy_db_enc = dy_dz1.sum(axis=0, keepdims=True)
            return dy_dw_dec, dy_db_dec, dy_dw_enc, dy_db_enc
"""

FIRST_LAYER = """\
    import numpy as np


    class FirstDense:
        # the network's first layer: nothing upstream needs its input gradient

        def __init__(self, fan_in, fan_out):
            rng = np.random.default_rng(4)
            self.W1 = rng.normal(0.0, 0.5, (fan_in, fan_out))
            self.b1 = np.zeros(fan_out)

        def forward(self, inputs):
            self.inputs = inputs
            return np.maximum(0.0, inputs @ self.W1 + self.b1) + 0.1 * (inputs @ self.W1 + self.b1)

        def backward(self, grad_out):
            z = self.inputs @ self.W1 + self.b1
            dLdz = grad_out * ((z > 0) + 0.1)
            dLdW1 = self.inputs.T @ dLdz
            dLdb1 = dLdz.sum(axis=0)
            return dLdW1, dLdb1
"""


def _verdicts(report: dict) -> dict[str, str]:
    return {m["param"]: m["verdict"] for m in report["measurements"]}


def test_derivative_names_of_four_parameters_are_read_as_their_gradients(tmp_path: Path) -> None:
    report = check(write(tmp_path, "autoencoder.py", AUTOENCODER))
    assert errors(report) == [], errors(report)
    verdicts = _verdicts(report)
    assert {"W_enc", "b_enc", "W_dec", "b_dec"} <= set(verdicts), verdicts
    assert set(verdicts.values()) == {"ok"}, verdicts


def test_a_missing_slope_in_the_autoencoder_is_still_reported(tmp_path: Path) -> None:
    path = planted(tmp_path, "autoencoder.py", AUTOENCODER, "* (1 - self.code ** 2)", "")
    found = errors(check(path))
    assert found and all(f["code"] != "BPD102" for f in found)
    assert any(f["param"] in ("W_enc", "b_enc") for f in found), found


def test_camel_derivative_names_of_a_first_layer_are_read_as_their_gradients(tmp_path: Path) -> None:
    report = check(write(tmp_path, "first_dense.py", FIRST_LAYER))
    assert errors(report) == [], errors(report)
    verdicts = _verdicts(report)
    assert {"W1", "b1"} <= set(verdicts) and set(verdicts.values()) == {"ok"}, verdicts


def test_a_wrong_bias_gradient_of_a_first_layer_is_still_reported(tmp_path: Path) -> None:
    path = planted(tmp_path, "first_dense.py", FIRST_LAYER, "dLdb1 = dLdz.sum(axis=0)", "dLdb1 = grad_out.sum(axis=0)")
    found = errors(check(path))
    assert found and all(f["code"] != "BPD102" for f in found)
    assert any(f["param"] == "b1" for f in found), found
