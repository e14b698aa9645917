"""What backprop-doctor's own loading does is not blamed on the user, and the user's own error is.

- A file inside a package folder without `__init__.py` that imports the package's modules by their
  dotted names (`nn/layers.py` doing `from nn.functions import sigmoid`), beside a module of the
  package's own name (`nn/nn.py`), loads as the project run from its root loads it: the package is
  `nn`, not `nn.py`. A plain `import model` of `model/model.py` keeps finding that module.
- A missing word-vector file (`glove.6B.50d.txt`, `wiki.en.vec`) reads as a word and its numbers a
  line, the words those of the program's text and strings, so the training loop after it runs; a
  program that stops parsing another missing file's stand-in is told the stop is the stand-in's.
- `backward_propagation_with_regularization` alone in its file is paired with the plain
  `forward_propagation` of the sibling module that defines it (the one the folder's program imports
  beside it) and checked against its own cost, `compute_cost_with_regularization.py`.
- A constructor reading a module global that the program binds only after it builds the object
  raises NameError in the user's own run: a `layer-raised` error, not "pass --build".
- A name `from utils import *` does not give because `utils.py` lacks it, and functions a file
  calls from a helper module missing here, are said as such; a statement left unbound by a
  stand-in stops the program there, not at a later line that reads the unbound name.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

# --------------------------------------------------------------------------- package shadowed by its own module

FUNCTIONS = """\
import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-x))
"""

SHADOW = """\
from nn.layers import Affine


def model():
    return [Affine()]
"""

LAYERS = """\
import numpy as np

{imports}


class Affine:
    def __init__(self, n_in=4, n_out=3):
        self.W = 0.1 * np.random.randn(n_in, n_out)
        self.b = np.zeros(n_out)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T


class Sigmoid:
    def forward(self, x):
        self.out = {call}(x)
        return self.out

    def backward(self, dout):
        return dout * self.out * (1 - self.out)
"""


def _beside_its_own_name(tmp_path, correct="", wrong=""):
    """`nn/layers.py` with `nn/nn.py` beside it, no `__init__.py` anywhere."""
    write(tmp_path, "nn/nn.py", SHADOW)
    write(tmp_path, "nn/functions.py", FUNCTIONS)
    text = LAYERS.format(imports="from nn.functions import sigmoid", call="sigmoid")
    return planted(tmp_path, "nn/layers.py", text, correct, wrong) if correct else write(tmp_path, "nn/layers.py", text)


def _two_levels_down(tmp_path, correct="", wrong=""):
    """`nn/train/layers.py` doing `import nn.functions as F`, `nn/nn.py` in the folder above."""
    write(tmp_path, "nn/nn.py", SHADOW.replace("nn.layers", "nn.train.layers"))
    write(tmp_path, "nn/functions.py", FUNCTIONS)
    text = LAYERS.format(imports="import nn.functions as F", call="F.sigmoid")
    return planted(tmp_path, "nn/train/layers.py", text, correct, wrong) if correct else write(tmp_path, "nn/train/layers.py", text)


def _checked_clean(report):
    assert errors(report) == []
    assert [f for f in report["findings"] if f["name"] == "load-error"] == []
    assert {"Affine", "Sigmoid"} <= {m["layer"] for m in report["measurements"] if m["verdict"] == "ok"}


def test_a_file_beside_a_module_of_its_package_name_imports_the_package(tmp_path):
    _checked_clean(check(_beside_its_own_name(tmp_path)))


def test_a_file_two_levels_down_imports_the_package_too(tmp_path):
    _checked_clean(check(_two_levels_down(tmp_path)))


def test_a_wrong_gradient_in_such_a_file_is_blamed_at_its_line(tmp_path):
    for project in (_beside_its_own_name, _two_levels_down):
        folder = tmp_path / project.__name__
        path = project(folder, "return dout * self.out * (1 - self.out)", "return dout * self.out * (1 + self.out)")
        (wrong,) = errors(check(path))
        assert (wrong["name"], wrong["line"]) == ("gradient-mismatch", line_of(path, "(1 + self.out)"))


def test_a_plain_import_of_the_folders_own_name_still_finds_that_module(tmp_path):
    write(tmp_path, "model/model.py", LAYERS.format(imports="from functions import sigmoid", call="sigmoid"))
    write(tmp_path, "model/functions.py", FUNCTIONS)
    path = write(tmp_path, "model/train.py", "import numpy as np\nfrom model import Affine, Sigmoid\n\nlayer = Affine()\nout = Sigmoid().forward(layer.forward(np.ones((2, 4))))\n")
    report = check(path)
    assert [f for f in report["findings"] if f["name"] == "load-error"] == []
    assert errors(report) == []


# --------------------------------------------------------------------------- word vectors that are not there

GLOVE = """\
import numpy as np


def read_glove_vecs(path):
    table = {}
    with open(path, encoding="utf8") as f:
        for line in f:
            parts = line.strip().split()
            table[parts[0]] = np.array(parts[1:], dtype=np.float64)
    return table


def softmax(z):
    e = np.exp(z - np.max(z))
    return e / e.sum()


sentences = ["i love you", "the food is ready", "lets play ball", "not feeling happy", "you are great"]
labels = [0, 1, 2, 3, 0]
table = read_glove_vecs("glove_data/glove.6B.50d.txt")
np.random.seed(1)
W = np.random.randn(4, 50) / np.sqrt(50)
b = np.zeros(4)
for epoch in range(8):
    for sentence, y in zip(sentences, labels):
        avg = np.mean([table[w] for w in sentence.split()], axis=0)
        a = softmax(W @ avg + b)
        cost = -np.log(a[y])
        dz = a.copy()
        dz[y] -= 1
        dW = np.outer(dz, avg)
        db = dz
        W -= 0.1 * dW
        b -= 0.1 * db
"""

FASTTEXT = """\
import csv

import numpy as np

with open("wiki.en.vec", encoding="utf8") as f:
    count, size = map(int, f.readline().split())
    vectors = {}
    for line in f:
        word, *numbers = line.rstrip().split(" ")
        vectors[word] = np.asarray(numbers, dtype=float)

with open("reviews.csv", newline="") as f:
    rows = [(text, int(label)) for text, label in csv.reader(f)]

rng = np.random.default_rng(0)
w = rng.normal(0, 0.1, size)
b = 0.0
for epoch in range(5):
    for text, label in rows:
        x = np.mean([vectors[t] for t in text.lower().split()], axis=0)
        p = 1 / (1 + np.exp(-(x @ w + b)))
        loss = -(label * np.log(p) + (1 - label) * np.log(1 - p))
        grad_w = (p - label) * x
        grad_b = p - label
        w -= 0.5 * grad_w
        b -= 0.5 * grad_b
"""

REVIEWS = "A great movie,1\nThe plot was dull,0\nLoved every minute,1\nA waste of time,0\n"


def _trained(report):
    return {m["param"]: m["verdict"] for m in report["measurements"] if m["layer"] == "training step"}


def test_a_missing_glove_file_reads_as_word_vectors_and_the_loop_after_it_is_checked(tmp_path):
    report = check(write(tmp_path, "emojify.py", GLOVE), training=True)
    assert errors(report) == []
    assert [f for f in report["findings"] if f["name"] == "program-stopped"] == []
    assert _trained(report) == {"W": "ok", "b": "ok"}
    (made,) = [f for f in report["findings"] if f["name"] == "synthetic-data"]
    assert "glove.6B.50d.txt" in made["message"] and "50 random numbers" in made["message"]


def test_a_missing_fasttext_file_has_its_count_line_and_the_words_of_the_data_beside_it(tmp_path):
    write(tmp_path, "reviews.csv", REVIEWS)
    report = check(write(tmp_path, "sentiment.py", FASTTEXT), training=True)
    assert errors(report) == []
    assert [f for f in report["findings"] if f["name"] == "program-stopped"] == []
    assert _trained(report) == {"w": "ok", "b": "ok"}


def test_a_wrong_gradient_after_the_word_vectors_is_found(tmp_path):
    path = planted(tmp_path, "emojify.py", GLOVE, "dz[y] -= 1", "dz[y] += 1")
    report = check(path, training=True)
    assert {"W", "b"} <= {p for p, v in _trained(report).items() if v != "ok"}
    write(tmp_path / "ft", "reviews.csv", REVIEWS)
    path = planted(tmp_path / "ft", "sentiment.py", FASTTEXT, "grad_w = (p - label) * x", "grad_w = (label - p) * x")
    assert _trained(check(path, training=True))["w"] != "ok"


POINTS = """\
import numpy as np

{read}

X, y = data[:, :1], data[:, 1:]
w = np.zeros((1, 1))
for step in range(50):
    err = X @ w - y
    w -= 0.1 * X.T @ err / len(X)
"""

LOOPED = """\
rows = []
with open("points.txt") as f:
    for line in f:
        a, b = line.split(",")
        rows.append((float(a), float(b)))
data = np.array(rows)"""

COMPREHENDED = """\
f = open("points.txt")
data = np.array([[float(v) for v in line.split(",")] for line in f])"""


def test_a_stop_parsing_a_missing_files_stand_in_is_the_stand_ins(tmp_path):
    for read in (LOOPED, COMPREHENDED):
        folder = tmp_path / str(len(read))
        path = write(folder, "fit.py", POINTS.format(read=read))
        (stopped,) = [f for f in check(path)["findings"] if f["name"] == "program-stopped"]
        assert "the text file points.txt" in stopped["message"] and "the stop is the stand-in's, not your code's" in stopped["message"]
        write(folder, "points.txt", "".join(f"{x},{2 * x}\n" for x in (0.5, 1.0, 1.5, 2.0)))
        assert [f for f in check(path)["findings"] if f["name"] == "program-stopped"] == []


# --------------------------------------------------------------------------- a backward variant, its forward in a sibling module

UTILS = """\
import numpy as np


def relu(x):
    return np.maximum(0, x)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def initialize_parameters(layer_dims):
    np.random.seed(3)
    parameters = {}
    for l in range(1, len(layer_dims)):
        parameters["W" + str(l)] = np.random.randn(layer_dims[l], layer_dims[l - 1]) / np.sqrt(layer_dims[l - 1])
        parameters["b" + str(l)] = np.zeros((layer_dims[l], 1))
    return parameters


def forward_propagation(X, parameters):
    W1, b1, W2, b2 = parameters["W1"], parameters["b1"], parameters["W2"], parameters["b2"]
    Z1 = np.dot(W1, X) + b1
    A1 = {hidden}(Z1)
    Z2 = np.dot(W2, A1) + b2
    A2 = sigmoid(Z2)
    cache = (Z1, A1, W1, b1, Z2, A2, W2, b2)
    return A2, cache


def compute_cost(A2, Y):
    m = Y.shape[1]
    return -np.sum(Y * np.log(A2) + (1 - Y) * np.log(1 - A2)) / m
"""

COST = """\
import numpy as np
from reg_utils import compute_cost


def compute_cost_with_regularization(A2, Y, parameters, lambd):
    m = Y.shape[1]
    penalty = lambd / (2 * m) * (np.sum(np.square(parameters["W1"])) + np.sum(np.square(parameters["W2"])))
    return compute_cost(A2, Y) + penalty
"""

BACKWARD = """\
import numpy as np


def backward_propagation_with_regularization(X, Y, cache, lambd):
    m = X.shape[1]
    (Z1, A1, W1, b1, Z2, A2, W2, b2) = cache
    dZ2 = A2 - Y
    dW2 = np.dot(dZ2, A1.T) / m + lambd * W2 / m
    db2 = np.sum(dZ2, axis=1, keepdims=True) / m
    dA1 = np.dot(W2.T, dZ2)
    dZ1 = dA1 * (A1 > 0)
    dW1 = np.dot(dZ1, X.T) / m + lambd * W1 / m
    db1 = np.sum(dZ1, axis=1, keepdims=True) / m
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}
"""

PROGRAM = """\
from reg_utils import *
from compute_cost_with_regularization import *
from backward_propagation_with_regularization import *
"""


def _course_folder(folder, backward=BACKWARD):
    """The course's layout: `reg_utils.py` (ReLU) and `init_utils.py` (tanh) both define
    `forward_propagation`; the program beside them imports `reg_utils` with the checked file."""
    write(folder, "init_utils.py", UTILS.replace("{hidden}", "np.tanh"))
    write(folder, "reg_utils.py", UTILS.replace("{hidden}", "relu"))
    write(folder, "compute_cost_with_regularization.py", COST)
    write(folder, "model_regularization.py", PROGRAM)
    return write(folder, "backward_propagation_with_regularization.py", backward)


def _one_helper_module(folder, backward=BACKWARD):
    """Its forward and its cost in one helper module, `nets.py`, and no program beside it."""
    helpers = UTILS.replace("{hidden}", "relu") + COST.replace("import numpy as np\nfrom reg_utils import compute_cost\n", "")
    write(folder, "nets.py", helpers)
    return write(folder, "backward_propagation_with_regularization.py", backward)


def _pair_measured(report):
    return {m["param"]: m["verdict"] for m in report["measurements"] if m["layer"] == "forward_propagation/backward_propagation_with_regularization"}


def test_a_regularised_backward_is_checked_with_the_plain_forward_beside_it(tmp_path):
    for layout in (_course_folder, _one_helper_module):
        report = check(layout(tmp_path / layout.__name__))
        assert errors(report) == []
        assert _pair_measured(report) == {"W1": "ok", "b1": "ok", "W2": "ok", "b2": "ok"}


def test_a_wrong_penalty_term_in_that_backward_is_found(tmp_path):
    for layout in (_course_folder, _one_helper_module):
        wrong = BACKWARD.replace("dW1 = np.dot(dZ1, X.T) / m + lambd * W1 / m", "dW1 = np.dot(dZ1, X.T) / m + lambd * W1")
        report = check(layout(tmp_path / layout.__name__, wrong))
        assert _pair_measured(report)["W1"] == "mismatch"
        assert {f["name"] for f in errors(report)} == {"gradient-mismatch"}


# --------------------------------------------------------------------------- a constructor reading a global the program sets later

HELD = """\
import numpy as np


class ReLU:
    def __init__(self):
        self.mask = mask

    def forward(self, x):
        self.mask = x <= 0
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout):
        dx = dout.copy()
        dx[self.mask] = 0
        return dx


arr = np.array([[1.0, -2.0, 3.0]])
{before}relu = ReLU()
mask = relu.forward(arr) <= 0
print(mask)
"""

SCALED = """\
import numpy as np


class Dense:
    def __init__(self, n_in, n_out):
        self.W = W_SCALE * np.random.randn(n_in, n_out)
        self.b = np.zeros(n_out)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T


if __name__ == "__main__":
{before}    layer = Dense(3, 2)
    W_SCALE = 0.1
    print(layer.forward(np.ones((4, 3))))
"""


def test_a_constructor_reading_a_global_bound_after_the_program_builds_it_is_the_users_error(tmp_path):
    for name, text, global_name in (("relu.py", HELD, "mask"), ("dense.py", SCALED, "W_SCALE")):
        path = write(tmp_path, name, text.format(before=""))
        (raised,) = [f for f in errors(check(path)) if f["name"] == "layer-raised"]
        assert raised["line"] == line_of(path, f"= {global_name}" if global_name == "mask" else f"{global_name} *")
        built = "relu = ReLU()" if global_name == "mask" else "layer = Dense(3, 2)"
        assert f"builds `{'ReLU' if global_name == 'mask' else 'Dense'}` at line {line_of(path, built)}" in raised["message"]


def test_the_same_classes_with_the_global_bound_first_are_checked_clean(tmp_path):
    for name, text, before in (("relu.py", HELD, "mask = np.zeros_like(arr, dtype=bool)\n"), ("dense.py", SCALED, "    W_SCALE = 0.1\n")):
        report = check(write(tmp_path, name, text.format(before=before)))
        assert errors(report) == []
        assert [f for f in report["findings"] if f["name"] == "layer-raised"] == []


# --------------------------------------------------------------------------- wordings: a name no import gives, a missing helper module

CELL = """\
import numpy as np
from utils import *


def affine_sigmoid_forward(x, w, b):
    out = sigmoid(x @ w + b)
    return out, (x, w, out)


def affine_sigmoid_backward(dout, cache):
    x, w, out = cache
    dz = dout * out * (1 - out)
    return dz @ w.T, x.T @ dz, dz.sum(axis=0)
"""


def test_a_name_the_imported_module_lacks_is_said_so_not_missing_module(tmp_path):
    write(tmp_path, "utils.py", "import numpy as np\n\n\ndef softmax(x):\n    e = np.exp(x - x.max(axis=0))\n    return e / e.sum(axis=0)\n")
    report = check(write(tmp_path, "models/cell.py", CELL))
    said = " ".join(f["message"] for f in report["findings"])
    assert "none of its imports gives: `utils` at ../utils.py has no `sigmoid`" in said
    assert "could not be imported here" not in said
    write(tmp_path / "ok", "utils.py", "import numpy as np\n\n\ndef sigmoid(x):\n    return 1 / (1 + np.exp(-x))\n")
    report = check(write(tmp_path / "ok", "models/cell.py", CELL))
    assert "has no `sigmoid`" not in " ".join(f["message"] for f in report["findings"])


APPLICATION = """\
import numpy as np
from course_helpers_v2 import *


def two_layer_model(X, Y, layers_dims, learning_rate=0.0075, num_iterations=10):
    parameters = initialize_parameters(*layers_dims)
    for i in range(num_iterations):
        AL, caches = L_model_forward(X, parameters)
        grads = L_model_backward(AL, Y, caches)
        parameters = update_parameters(parameters, grads, learning_rate)
    return parameters
"""


def test_a_file_whose_functions_come_from_a_missing_helper_module_is_told_so(tmp_path):
    (nothing,) = [f for f in check(write(tmp_path, "application.py", APPLICATION))["findings"] if f["name"] == "nothing-to-check"]
    assert "`L_model_forward`" in nothing["message"] and "come from `course_helpers_v2` (imported at line 2), which is missing here" in nothing["message"]
    alone = APPLICATION.replace("from course_helpers_v2 import *\n", "")
    (nothing,) = [f for f in check(write(tmp_path / "alone", "application.py", alone))["findings"] if f["name"] == "nothing-to-check"]
    assert "course_helpers_v2" not in nothing["message"]


CASCADE = """\
import numpy as np
import labdata


class Net:
    def __init__(self, sizes):
        self.W = [np.random.randn(sizes[i + 1], sizes[i]) for i in range(len(sizes) - 1)]

    def fit(self, X):
        return self

    def score(self, X):
        return 1.0


if __name__ == "__main__":
    X = labdata.load("points")
    sizes = [X.shape[0], 4, 1]
    net = Net(sizes)
    net = net.fit(X)
    accuracy = net.score(X)
    print(accuracy)
"""


def test_a_name_a_stand_in_left_unbound_stops_the_program_at_the_statement_that_failed(tmp_path):
    path = write(tmp_path, "main.py", CASCADE)
    (stopped,) = [f for f in check(path)["findings"] if f["name"] == "program-stopped"]
    assert stopped["line"] == line_of(path, "net = Net(sizes)")
    assert "NameError" not in stopped["message"] and "the stand-in for `labdata`" in stopped["message"]
