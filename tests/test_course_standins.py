"""Course notebooks run without the helper files the course ships beside them.

A student's copy of a Coursera notebook imports its data and helpers from
`planar_utils.py`, `testCases_v2.py`, an `h5py` file of cat pictures, and
prints a scikit-learn baseline before it trains. None of that is on a fresh
machine. The program must still reach its training loop: the data loaders give
synthetic data of the documented shapes (and the report says so), a top-level
statement that fails only on a stand-in (the missing scikit-learn, a name from
`from testCases_v2 import *`) is skipped, and the training step is replayed
and checked. A real error of the program still stops it at its line.
"""

from __future__ import annotations

from userfiles import check, errors, line_of, planted, replayed, write

PLANAR = """
import numpy as np
import matplotlib.pyplot as plt
from testCases_v2 import *
import sklearn
import sklearn.linear_model
from planar_utils import plot_decision_boundary, sigmoid, load_planar_dataset

np.random.seed(1)
X, Y = load_planar_dataset()
print("X", X.shape, "Y", Y.shape)

clf = sklearn.linear_model.LogisticRegressionCV()
clf.fit(X.T, Y.T.ravel())
LR_predictions = clf.predict(X.T)
print("logistic regression: %d %%" % float((np.dot(Y, LR_predictions) + np.dot(1 - Y, 1 - LR_predictions)) / float(Y.size) * 100))

X_assess, Y_assess = layer_sizes_test_case()


def initialize_parameters(n_x, n_h, n_y):
    np.random.seed(2)
    return {"W1": np.random.randn(n_h, n_x) * 0.01, "b1": np.zeros((n_h, 1)),
            "W2": np.random.randn(n_y, n_h) * 0.01, "b2": np.zeros((n_y, 1))}


def forward_propagation(X, parameters):
    W1, b1, W2, b2 = parameters["W1"], parameters["b1"], parameters["W2"], parameters["b2"]
    Z1 = np.dot(W1, X) + b1
    A1 = np.tanh(Z1)
    Z2 = np.dot(W2, A1) + b2
    A2 = sigmoid(Z2)
    assert A2.shape == (1, X.shape[1])
    return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}


def compute_cost(A2, Y):
    m = Y.shape[1]
    logprobs = np.multiply(np.log(A2), Y) + np.multiply(np.log(1 - A2), 1 - Y)
    return float(np.squeeze(-np.sum(logprobs) / m))


def backward_propagation(parameters, cache, X, Y):
    m = X.shape[1]
    W2 = parameters["W2"]
    A1, A2 = cache["A1"], cache["A2"]
    dZ2 = A2 - Y
    dW2 = np.dot(dZ2, A1.T) / m
    db2 = np.sum(dZ2, axis=1, keepdims=True) / m
    dZ1 = np.multiply(np.dot(W2.T, dZ2), 1 - np.power(A1, 2))
    dW1 = np.dot(dZ1, X.T) / m
    db1 = np.sum(dZ1, axis=1, keepdims=True) / m
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}


def update_parameters(parameters, grads, learning_rate=1.2):
    for name in ("W1", "b1", "W2", "b2"):
        parameters[name] = parameters[name] - learning_rate * grads["d" + name]
    return parameters


parameters, grads = update_parameters_test_case()
print(update_parameters(parameters, grads))


def nn_model(X, Y, n_h, num_iterations=10000, print_cost=False):
    parameters = initialize_parameters(X.shape[0], n_h, Y.shape[0])
    for i in range(num_iterations):
        A2, cache = forward_propagation(X, parameters)
        cost = compute_cost(A2, Y)
        grads = backward_propagation(parameters, cache, X, Y)
        parameters = update_parameters(parameters, grads)
        if print_cost and i % 1000 == 0:
            print("Cost after iteration %i: %f" % (i, cost))
    return parameters


parameters = nn_model(X, Y, n_h=4, num_iterations=10000, print_cost=True)
plot_decision_boundary(lambda x: x, X, Y)
plt.title("Decision Boundary for hidden layer size " + str(4))
"""

# the week-2 logistic regression: the course's loader module beside the file reads cat pictures with h5py
LOADER = """
import numpy as np
import h5py


def load_dataset():
    train = h5py.File("datasets/train_catvnoncat.h5", "r")
    train_x = np.array(train["train_set_x"][:])
    train_y = np.array(train["train_set_y"][:])
    test = h5py.File("datasets/test_catvnoncat.h5", "r")
    test_x = np.array(test["test_set_x"][:])
    test_y = np.array(test["test_set_y"][:])
    classes = np.array(test["list_classes"][:])
    return train_x, train_y.reshape((1, -1)), test_x, test_y.reshape((1, -1)), classes
"""

LOGISTIC = """
import numpy as np
from lr_utils import load_dataset

train_x_orig, train_y, test_x_orig, test_y, classes = load_dataset()
train_x = train_x_orig.reshape(train_x_orig.shape[0], -1).T / 255.0


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def propagate(w, b, X, Y):
    m = X.shape[1]
    A = sigmoid(np.dot(w.T, X) + b)
    cost = -np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A)) / m
    dw = np.dot(X, (A - Y).T) / m
    db = np.sum(A - Y) / m
    return {"dw": dw, "db": db}, cost


def optimize(w, b, X, Y, num_iterations, learning_rate):
    costs = []
    for i in range(num_iterations):
        grads, cost = propagate(w, b, X, Y)
        dw = grads["dw"]
        db = grads["db"]
        w = w - learning_rate * dw
        b = b - learning_rate * db
        if i % 100 == 0:
            costs.append(cost)
    return w, b, costs


w, b, costs = optimize(np.zeros((train_x.shape[0], 1)), 0.0, train_x, train_y, 2000, 0.005)
"""


def test_a_planar_notebook_without_its_helper_files_reaches_its_training_and_is_checked(tmp_path):
    path = write(tmp_path, "planar.py", PLANAR)
    report = check(path)
    assert errors(report) == []
    names = {p["name"]: p["wrong"] for p in replayed(report)["parameters"]}
    assert names == {"parameters['W1']": False, "parameters['b1']": False, "parameters['W2']": False, "parameters['b2']": False}
    (synthetic,) = [f for f in report["findings"] if f["name"] == "synthetic-data"]
    assert synthetic["line"] == line_of(path, "X, Y = load_planar_dataset()")
    assert "(2, 400)" in synthetic["message"]
    assert not any(f["name"] == "program-stopped" for f in report["findings"])


def test_a_planar_notebook_with_a_wrong_tanh_derivative_is_blamed_at_that_line(tmp_path):
    path = planted(tmp_path, "planar.py", PLANAR, "1 - np.power(A1, 2))", "1 - A1)")
    report = check(path)
    root = report["findings"][0]
    assert (root["name"], root["line"], root["param"]) == ("step-gradient-mismatch", line_of(path, "dZ1 = np.multiply"), "dZ1")


def test_a_real_error_of_the_program_still_stops_it_at_its_line(tmp_path):
    path = planted(tmp_path, "planar.py", PLANAR, 'print("X", X.shape, "Y", Y.shape)', 'print("X", X.shape, "Y", Y.shape[5])')
    report = check(path)
    (stopped,) = [f for f in report["findings"] if f["name"] == "program-stopped"]
    assert stopped["line"] == line_of(path, "Y.shape[5]") and "IndexError" in stopped["message"]
    assert report["extras"]["replay"][0]["not_replayed"]  # the training loop was never reached


def test_cat_pictures_read_through_a_missing_h5py_are_synthetic_and_the_logistic_regression_is_checked(tmp_path):
    write(tmp_path, "lr_utils.py", LOADER)
    path = write(tmp_path, "logistic.py", LOGISTIC)
    report = check(path)
    assert errors(report) == []
    assert {p["name"] for p in replayed(report)["parameters"]} == {"w", "b"}
    synthetic = [f for f in report["findings"] if f["name"] == "synthetic-data"]
    assert len(synthetic) == 2 and "(209, 64, 64, 3)" in synthetic[0]["message"]
    assert report["extras"]["observed_run"]["stopped"] == "enough"  # stopped after a few passes, not at the time budget


def test_a_logistic_regression_whose_gradient_forgets_the_mean_is_reported(tmp_path):
    write(tmp_path, "lr_utils.py", LOADER)
    path = planted(tmp_path, "logistic.py", LOGISTIC, "dw = np.dot(X, (A - Y).T) / m", "dw = np.dot(X, (A - Y).T)")
    report = check(path)
    (finding,) = [f for f in errors(report) if f["name"] == "step-gradient-mismatch"]
    assert finding["line"] == line_of(path, "dw = np.dot(X, (A - Y).T)")
    assert "209" in finding["message"]  # the batch size the gradient is off by


def test_a_dictionary_update_in_a_file_of_functions_only_is_no_rebinding_warning(tmp_path):
    # `parameters[k] = parameters[k] - ...` in a module the student imports: no layer object holds
    # the arrays, so binding new ones to the dictionary is the update itself
    functions = PLANAR[: PLANAR.index("parameters, grads = update_parameters_test_case()")]
    functions = functions[functions.index("def initialize_parameters"):]
    path = write(tmp_path, "planar_functions.py", "import numpy as np\n\n\ndef sigmoid(x):\n    return 1 / (1 + np.exp(-x))\n\n\n" + functions)
    report = check(path)
    assert not any(f["name"] == "unshared-parameter" for f in report["findings"]), report["findings"]
    assert errors(report) == []
