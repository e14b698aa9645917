"""cs231n batch normalisation pairs: train mode couples the samples by design, test mode must not.

`batchnorm_forward(x, gamma, beta, bn_param)` normalises with the batch's statistics when
`bn_param['mode'] == 'train'` and with its running averages in test mode. The batch-coupling
check probes forward in test mode only: the backward belongs to the training-mode forward,
whose coupling is the point of batch normalisation.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

LAYERS = '''\
import numpy as np


def batchnorm_forward(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    N, D = x.shape
    running_mean = bn_param.get("running_mean", np.zeros(D, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.ones(D, dtype=x.dtype))
    out, cache = None, None
    if mode == "train":
        mu = x.mean(axis=0)
        var = x.var(axis=0)
        x_hat = (x - mu) / np.sqrt(var + eps)
        out = gamma * x_hat + beta
        cache = (x_hat, gamma, var, eps)
        running_mean = momentum * running_mean + (1 - momentum) * mu
        running_var = momentum * running_var + (1 - momentum) * var
    elif mode == "test":
        {test_mode}
        out = gamma * x_hat + beta
        cache = (x_hat, gamma, running_var, eps)
    else:
        raise ValueError("Invalid forward batchnorm mode %s" % mode)
    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var
    return out, cache


def batchnorm_backward(dout, cache):
    x_hat, gamma, var, eps = cache
    N = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx_hat = dout * gamma
    dx = (N * dx_hat - dx_hat.sum(axis=0) - x_hat * (dx_hat * x_hat).sum(axis=0)) / (N * np.sqrt(var + eps))
    return dx, dgamma, dbeta
'''

CORRECT = "x_hat = (x - running_mean) / np.sqrt(running_var + eps)"
BUGGY = "x_hat = (x - x.mean(axis=0)) / np.sqrt(running_var + eps)  # BUG: the batch mean at test time"


def check(path: Path) -> tuple[int, dict]:
    env = {**os.environ, "NO_COLOR": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "backprop_doctor", "check", str(path), "--format", "json", "--no-training"],
        capture_output=True, text=True, encoding="utf-8", env=env, timeout=300, cwd=path.parent,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, json.loads(result.stdout)["files"][0]


def errors(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["severity"] == "error"]


def test_train_mode_batchnorm_pair_is_not_batch_coupling(tmp_path):
    path = tmp_path / "layers.py"
    path.write_text(LAYERS.format(test_mode=CORRECT))
    code, report = check(path)
    assert errors(report) == [], [(f["code"], f["message"]) for f in errors(report)]
    measured = {m["layer"] for m in report["measurements"]}
    assert "batchnorm" in measured or "batchnorm_forward" in measured or any("batchnorm" in m for m in measured), measured
    assert code == 0


def test_test_mode_that_uses_the_batch_mean_is_reported_at_its_line(tmp_path):
    path = tmp_path / "layers.py"
    path.write_text(LAYERS.format(test_mode=BUGGY))
    code, report = check(path)
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if "# BUG" in text)
    coupling = [f for f in errors(report) if f["code"] == "BPD302"]
    assert coupling and coupling[0]["line"] == line, [(f["code"], f["line"], f["message"]) for f in errors(report)]
    assert "forward" in coupling[0]["message"]
    assert code == 1
