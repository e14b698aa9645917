"""Layers built for one sample of a given shape (`conventions/shaped_layers`): `Conv(input_shape,
kernel_size, depth)`, `Reshape(input_shape, output_shape)`, a base `Activation(activation,
activation_prime)` checked with tanh, all with `backward(output_gradient, learning_rate)`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

CASES = Path(__file__).parent / "cases" / "conventions"
CORRECT = (CASES / "shaped_layers_ok.py").read_text()


def check(path: Path) -> dict:
    env = {**os.environ, "NO_COLOR": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "backprop_doctor", "check", str(path), "--format", "json", "--no-training"],
        capture_output=True, text=True, encoding="utf-8", env=env, timeout=300,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return json.loads(result.stdout)["files"][0]


def test_each_layer_is_built_for_one_sample_of_its_shape(tmp_path):
    path = tmp_path / "layers.py"
    path.write_text(CORRECT)
    report = check(path)
    built = {b["what"]: b["shapes"] for b in report["built"]}
    assert built["Conv"].endswith("one sample x (2, 5, 6)")
    assert "output_shape=(60, 1)" in built["Flatten"]
    assert "activation=tanh" in built["Activation"]
    checked = {(m["layer"], m["param"]) for m in report["measurements"]}
    assert {("Conv", "kernels"), ("Conv", "biases"), ("Conv", "x"), ("Flatten", "x"), ("Activation", "x")} <= checked


def test_an_activation_base_that_takes_the_derivative_of_its_output_is_reported(tmp_path):
    text = CORRECT.replace(
        "        return self.activation(self.input)\n",
        "        self.output = self.activation(self.input)\n        return self.output\n",
    ).replace("self.activation_prime(self.input))", "self.activation_prime(self.output))")
    path = tmp_path / "layers.py"
    path.write_text(text)
    line = text.splitlines().index("        return np.multiply(output_gradient, self.activation_prime(self.output))") + 1
    report = check(path)
    wrong = [f for f in report["findings"] if f["code"] == "BPD101" and f["layer"] == "Activation"]
    assert wrong and wrong[0]["line"] == line, report["findings"]


def test_an_activation_base_with_subclasses_is_left_to_them(tmp_path):
    text = CORRECT + '''

class Tanh(Activation):
    def __init__(self):
        super().__init__(np.tanh, lambda x: 1 - np.tanh(x) ** 2)
'''
    path = tmp_path / "layers.py"
    path.write_text(text)
    report = check(path)
    assert not [b for b in report["built"] if b["what"] == "Activation" and "tanh_prime" in (b["shapes"] or "")]
    assert any(m["layer"] == "Tanh" for m in report["measurements"])


def test_a_layer_that_needs_a_module_that_is_not_installed_is_not_blamed(tmp_path):
    text = CORRECT.replace("import numpy as np\n", "import numpy as np\nfrom imaging_kit_not_installed import signal\n", 1)
    text = text.replace("correlate_valid(self.input[j], self.kernels[i, j])", 'signal.correlate2d(self.input[j], self.kernels[i, j], "valid")')
    path = tmp_path / "layers.py"
    path.write_text(text)
    report = check(path)
    assert not [f for f in report["findings"] if f["severity"] == "error" and f["layer"] == "Conv"], report["findings"]
    conv = next(b for b in report["built"] if b["what"] == "Conv")
    assert "`signal`" in conv["skipped"] and "could not be imported" in conv["skipped"]
