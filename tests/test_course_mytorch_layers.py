"""Layers written the way a course's "mytorch" homework writes them, which the tool used to leave
unchecked: activations whose `derivative()` takes nothing and returns f'(x) of the state forward
kept; a loss whose `forward(x, y)` returns one loss per sample and whose `derivative()` returns each
sample's own gradient; a loss `forward(A, Y)` beside a `backward()` that takes nothing; a linear layer
built from initialiser functions (`weight_init_fn(d0, d1)`, `bias_init_fn(d)`) or keeping its gradients
as `dLdW`/`dLdb`, whose parameter gradients are the batch's mean while its input gradient is the sum's.
Two styles of each; correct twins are clean, a planted wrong gradient is named at its line."""

import pytest

from tests.userfiles import check, line_of, planted, write

# an abstract base raising `NotImplemented`, the output kept in `self.state`
ACTIVATIONS_STATE = """
    import numpy as np


    class Activation(object):
        def __init__(self):
            self.state = None

        def __call__(self, x):
            return self.forward(x)

        def forward(self, x):
            raise NotImplemented

        def derivative(self):
            raise NotImplemented


    class Identity(Activation):
        def forward(self, x):
            self.state = x
            return x

        def derivative(self):
            return 1.0


    class Sigmoid(Activation):
        def forward(self, x):
            self.state = 1.0 / (1.0 + np.exp(-x))
            return self.state

        def derivative(self):
            return self.state * (1.0 - self.state)


    class Tanh(Activation):
        def forward(self, x):
            self.state = np.tanh(x)
            return self.state

        def derivative(self, state=None):
            s = self.state if state is None else state
            return 1.0 - s ** 2
"""

# standalone classes keeping the input, an optional argument nobody passes
ACTIVATIONS_INPUT = """
    import numpy as np


    class Softplus:
        def forward(self, z):
            self.z = z
            return np.log1p(np.exp(z))

        def derivative(self):
            return 1.0 / (1.0 + np.exp(-self.z))


    class LeakyReLU:
        def __init__(self, slope=0.1):
            self.slope = slope

        def forward(self, z):
            self.z = z
            return np.where(z > 0, z, self.slope * z)

        def derivative(self):
            return np.where(self.z > 0, 1.0, self.slope)
"""

# per-sample losses (batch,), `derivative()` each sample's gradient
LOSS_PER_SAMPLE = """
    import numpy as np


    class Criterion(object):
        def __call__(self, x, y):
            return self.forward(x, y)

        def forward(self, x, y):
            raise NotImplemented

        def derivative(self):
            raise NotImplemented


    class SoftmaxCrossEntropy(Criterion):
        def forward(self, x, y):
            self.labels = y
            shifted = x - x.max(axis=1, keepdims=True)
            log_sm = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
            self.sm = np.exp(log_sm)
            return -np.sum(y * log_sm, axis=1)

        def derivative(self):
            return self.sm - self.labels
"""

LOSS_PER_SAMPLE_SQUARED = """
    import numpy as np


    class HalfSquaredError:
        def forward(self, x, y):
            self.diff = x - y
            return 0.5 * np.sum(self.diff ** 2, axis=1)

        def derivative(self):
            return self.diff
"""

# `forward(A, Y)` returns the mean, `backward()` its gradient
LOSS_MEAN_BACKWARD = """
    import numpy as np


    class MSELoss:
        def forward(self, A, Y):
            self.A, self.Y = A, Y
            N, C = A.shape
            return np.sum((A - Y) ** 2) / (N * C)

        def backward(self):
            N, C = self.A.shape
            dLdA = 2 * (self.A - self.Y) / (N * C)
            return dLdA


    class CrossEntropyLoss:
        def forward(self, A, Y):
            self.Y = Y
            e = np.exp(A - A.max(axis=1, keepdims=True))
            self.softmax = e / e.sum(axis=1, keepdims=True)
            return -np.sum(Y * np.log(self.softmax)) / A.shape[0]

        def backward(self):
            dLdA = (self.softmax - self.Y) / self.Y.shape[0]
            return dLdA
"""

# initialiser functions, the gradients of the weights the batch's mean
LINEAR_INIT_FNS = """
    import numpy as np


    class Linear():
        def __init__(self, in_feature, out_feature, weight_init_fn, bias_init_fn):
            self.W = weight_init_fn(in_feature, out_feature)
            self.b = bias_init_fn(out_feature)
            self.dW = np.zeros(self.W.shape)
            self.db = np.zeros(self.b.shape)

        def __call__(self, x):
            return self.forward(x)

        def forward(self, x):
            self.x = x
            return np.matmul(x, self.W) + self.b

        def backward(self, delta):
            batch_size = delta.shape[0]
            self.dW = np.matmul(self.x.T, delta) / batch_size
            self.db = np.mean(delta, axis=0, keepdims=True)
            return np.matmul(delta, self.W.T)
"""

# the gradients named `dLdW`, `dLdb`; the weight (out, in), a column bias
LINEAR_DLDW = """
    import numpy as np


    class Linear:
        def __init__(self, in_features, out_features):
            self.W = np.random.randn(out_features, in_features) * 0.3
            self.b = np.random.randn(out_features, 1) * 0.1

        def forward(self, A):
            self.A = A
            self.N = A.shape[0]
            self.Ones = np.ones((self.N, 1))
            return self.A @ self.W.T + self.Ones @ self.b.T

        def backward(self, dLdZ):
            dLdA = dLdZ @ self.W
            self.dLdW = dLdZ.T @ self.A / self.N
            self.dLdb = dLdZ.T @ self.Ones / self.N
            return dLdA
"""

CASES = [
    pytest.param(ACTIVATIONS_STATE, "return self.state * (1.0 - self.state)", "return self.state * (1.0 + self.state)", 3, id="activations-state"),
    pytest.param(ACTIVATIONS_INPUT, "return np.where(self.z > 0, 1.0, self.slope)", "return np.where(self.z > 0, 1.0, 0.0)", 2, id="activations-input"),
    pytest.param(LOSS_PER_SAMPLE, "return self.sm - self.labels", "return self.labels - self.sm", 1, id="loss-per-sample"),
    pytest.param(LOSS_PER_SAMPLE_SQUARED, "return self.diff", "return 2 * self.diff", 1, id="loss-per-sample-squared"),
    pytest.param(LOSS_MEAN_BACKWARD, "dLdA = 2 * (self.A - self.Y) / (N * C)", "dLdA = (self.A - self.Y) / (N * C)", 2, id="loss-backward-no-argument"),
    pytest.param(LINEAR_INIT_FNS, "self.db = np.mean(delta, axis=0, keepdims=True)", "self.db = np.mean(delta, axis=0, keepdims=True) / batch_size", 1, id="linear-init-functions"),
    pytest.param(LINEAR_DLDW, "self.dLdb = dLdZ.T @ self.Ones / self.N", "self.dLdb = dLdZ.T @ self.Ones / self.N ** 2", 1, id="linear-dLdW"),
]


@pytest.mark.parametrize(("source", "correct", "wrong", "layers"), CASES)
def test_a_correct_course_layer_is_checked_and_clean(tmp_path, source, correct, wrong, layers):
    report = check(write(tmp_path, "mytorch_layer.py", source))
    assert report["verdict"].startswith("✓"), report["verdict"]
    assert not [f for f in report["findings"] if f["severity"] != "info"], report["findings"]
    checked = {m["layer"] for m in report["measurements"] if m["verdict"] == "ok"}
    assert len(checked) == layers, report["measurements"]
    if "Linear" in checked:
        assert {m["param"] for m in report["measurements"] if m["verdict"] == "ok"} >= {"x", "W", "b"}, report["measurements"]


@pytest.mark.parametrize(("source", "correct", "wrong", "layers"), CASES)
def test_a_wrong_gradient_of_a_course_layer_is_named_at_its_line(tmp_path, source, correct, wrong, layers):
    path = planted(tmp_path, "mytorch_layer.py", source, correct, wrong)
    report = check(path)
    root = report["findings"][report["root_cause"]]
    assert root["severity"] == "error" and root["line"] == line_of(path, wrong), root


def test_a_layer_dividing_only_its_bias_gradient_by_the_batch_is_still_named(tmp_path):
    # the batch's mean is a convention only when every parameter gradient keeps it
    wrong = "self.dW = np.matmul(self.x.T, delta)"
    path = planted(tmp_path, "linear.py", LINEAR_INIT_FNS, "self.dW = np.matmul(self.x.T, delta) / batch_size", wrong)
    report = check(path)
    root = report["findings"][report["root_cause"]]
    assert root["line"] in (line_of(path, wrong), line_of(path, "self.db = np.mean(delta, axis=0, keepdims=True)")), root
    assert root["severity"] == "error", root
