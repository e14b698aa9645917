"""The classic recurrent network that learns binary addition, written out in a flat script: a loop over
the bit positions keeps each step's hidden layer in a list and each output's delta in another, a second
loop walks the positions backwards carrying `future_layer_1_delta` and adds every step's products into
`*_update` arrays, which the pass adds to the weights times `alpha` and then empties (`*_update *= 0`).

The replay reads those arrays as the pass's gradient sums, not as momentum velocities
(`static.steps._emptied_every_pass`), checks the recurrent weight's update too (named after it:
`synapse_h += synapse_h_update * alpha`), takes the squared error the output deltas imply summed over
the positions (each position's target is picked from the sum's bits: `static.steps._picked_items`) and
not the absolute error the script only prints (`_absolute_metric`). A backward loop that never hands its
delta to the earlier step (`future_layer_1_delta` left at its zeros) is named where it is read, with the
missing statement (`static.unused.never_carried`). Before, the correct script got an error against
`total_error`, the sum of absolute errors, with a gradient read from one time step only."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, step_verdicts

# positions counted down, `@`, a slope helper, the error summed as a number
COUNTED_DOWN = '''\
import numpy as np

np.random.seed(7)


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_slope(s):
    return s * (1.0 - s)


BITS = 8
LARGEST = 2 ** BITS
as_bits = np.unpackbits(np.arange(LARGEST, dtype=np.uint8)[:, None], axis=1)

alpha = 0.1
n_in, n_hidden, n_out = 2, 16, 1

synapse_0 = 2 * np.random.random((n_in, n_hidden)) - 1
synapse_1 = 2 * np.random.random((n_hidden, n_out)) - 1
synapse_h = 2 * np.random.random((n_hidden, n_hidden)) - 1

synapse_0_update = np.zeros_like(synapse_0)
synapse_1_update = np.zeros_like(synapse_1)
synapse_h_update = np.zeros_like(synapse_h)

for it in range(10000):
    a = np.random.randint(LARGEST // 2)
    b = np.random.randint(LARGEST // 2)
    c = a + b
    a_bits, b_bits, c_bits = as_bits[a], as_bits[b], as_bits[c]
    guess = np.zeros_like(c_bits)

    total_error = 0
    layer_2_deltas = []
    layer_1_values = [np.zeros((1, n_hidden))]

    for pos in range(BITS):
        bit = BITS - 1 - pos
        x = np.array([[a_bits[bit], b_bits[bit]]])
        target = np.array([[c_bits[bit]]]).T
        layer_1 = sigmoid(x @ synapse_0 + layer_1_values[-1] @ synapse_h)
        layer_2 = sigmoid(layer_1 @ synapse_1)
        layer_2_error = target - layer_2
        layer_2_deltas.append(layer_2_error * sigmoid_slope(layer_2))
        total_error += np.abs(layer_2_error[0, 0])
        guess[bit] = np.round(layer_2[0, 0])
        layer_1_values.append(layer_1.copy())

    future_layer_1_delta = np.zeros((1, n_hidden))

    for pos in range(BITS):
        bit = pos
        x = np.array([[a_bits[bit], b_bits[bit]]])
        layer_1 = layer_1_values[-pos - 1]
        prev_layer_1 = layer_1_values[-pos - 2]
        layer_2_delta = layer_2_deltas[-pos - 1]
        layer_1_delta = (future_layer_1_delta @ synapse_h.T + layer_2_delta @ synapse_1.T) * sigmoid_slope(layer_1)
        synapse_1_update += layer_1.T @ layer_2_delta
        synapse_h_update += prev_layer_1.T @ layer_1_delta
        synapse_0_update += x.T @ layer_1_delta
        future_layer_1_delta = layer_1_delta

    synapse_0 += synapse_0_update * alpha
    synapse_1 += synapse_1_update * alpha
    synapse_h += synapse_h_update * alpha

    synapse_0_update *= 0
    synapse_1_update *= 0
    synapse_h_update *= 0

    if it % 2000 == 0:
        print("error", total_error, "guess", guess, "true", c_bits)
'''

DELTA = "layer_1_delta = (future_layer_1_delta @ synapse_h.T + layer_2_delta @ synapse_1.T) * sigmoid_slope(layer_1)"

# `np.dot`, codes looked up in a dict, the hidden layer copied into the list, `np.atleast_2d` in the updates
LOOKED_UP = '''\
import copy
import numpy as np

np.random.seed(0)


def squash(v):
    return 1 / (1 + np.exp(-v))


def squash_grad_from_output(out):
    return out * (1 - out)


binary_dim = 8
largest_number = pow(2, binary_dim)
int2binary = {}
codes = np.unpackbits(np.array([range(largest_number)], dtype=np.uint8).T, axis=1)
for i in range(largest_number):
    int2binary[i] = codes[i]

alpha = 0.1
input_dim = 2
hidden_dim = 16
output_dim = 1

W_in = 2 * np.random.random((input_dim, hidden_dim)) - 1
W_out = 2 * np.random.random((hidden_dim, output_dim)) - 1
W_rec = 2 * np.random.random((hidden_dim, hidden_dim)) - 1

W_in_update = np.zeros_like(W_in)
W_out_update = np.zeros_like(W_out)
W_rec_update = np.zeros_like(W_rec)

for j in range(10000):
    a_int = np.random.randint(largest_number / 2)
    a = int2binary[a_int]
    b_int = np.random.randint(largest_number / 2)
    b = int2binary[b_int]
    c = int2binary[a_int + b_int]
    d = np.zeros_like(c)

    overall_error = 0
    layer_2_deltas = list()
    layer_1_values = list()
    layer_1_values.append(np.zeros(hidden_dim))

    for position in range(binary_dim):
        X = np.array([[a[binary_dim - position - 1], b[binary_dim - position - 1]]])
        y = np.array([[c[binary_dim - position - 1]]]).T
        layer_1 = squash(np.dot(X, W_in) + np.dot(layer_1_values[-1], W_rec))
        layer_2 = squash(np.dot(layer_1, W_out))
        layer_2_error = y - layer_2
        layer_2_deltas.append(layer_2_error * squash_grad_from_output(layer_2))
        overall_error += np.abs(layer_2_error[0])
        d[binary_dim - position - 1] = np.round(layer_2[0][0])
        layer_1_values.append(copy.deepcopy(layer_1))

    future_layer_1_delta = np.zeros(hidden_dim)

    for position in range(binary_dim):
        X = np.array([[a[position], b[position]]])
        layer_1 = layer_1_values[-position - 1]
        prev_layer_1 = layer_1_values[-position - 2]
        layer_2_delta = layer_2_deltas[-position - 1]
        layer_1_delta = (future_layer_1_delta.dot(W_rec.T) + layer_2_delta.dot(W_out.T)) * squash_grad_from_output(layer_1)
        W_out_update += np.atleast_2d(layer_1).T.dot(layer_2_delta)
        W_rec_update += np.atleast_2d(prev_layer_1).T.dot(layer_1_delta)
        W_in_update += X.T.dot(layer_1_delta)
        future_layer_1_delta = layer_1_delta

    W_in += W_in_update * alpha
    W_out += W_out_update * alpha
    W_rec += W_rec_update * alpha

    W_in_update *= 0
    W_out_update *= 0
    W_rec_update *= 0

    if j % 2500 == 0:
        print("Error:", overall_error, "Pred:", d, "True:", c)
'''

CARRIED = "        future_layer_1_delta = layer_1_delta\n"


def test_counted_down_rnn_is_checked_and_clean(tmp_path):
    report = check(planted(tmp_path, "binary_addition.py", COUNTED_DOWN, DELTA, DELTA))
    assert errors(report) == []
    assert step_verdicts(report) == {"synapse_0": "ok", "synapse_1": "ok", "synapse_h": "ok"}


def test_counted_down_rnn_slope_of_the_previous_step_is_named_at_the_delta(tmp_path):
    path = planted(tmp_path, "binary_addition.py", COUNTED_DOWN, DELTA, DELTA.replace("sigmoid_slope(layer_1)", "sigmoid_slope(prev_layer_1)"))
    report = check(path)
    (found,) = errors(report)
    assert found["code"] == "BPD108"
    assert found["line"] == line_of(path, "layer_1_delta = (")
    verdicts = step_verdicts(report)
    assert verdicts["synapse_1"] == "ok" and verdicts["synapse_0"] == verdicts["synapse_h"] == "mismatch"


def test_counted_down_rnn_future_delta_left_out_is_named_at_the_delta(tmp_path):
    path = planted(tmp_path, "binary_addition.py", COUNTED_DOWN, DELTA, DELTA.replace("future_layer_1_delta @ synapse_h.T + ", ""))
    (found,) = errors(check(path))
    assert found["line"] == line_of(path, "layer_1_delta = (")
    assert "squared error" in found["message"] and "total_error" not in found["message"]


def test_looked_up_rnn_is_checked_and_clean(tmp_path):
    report = check(planted(tmp_path, "binary_addition.py", LOOKED_UP, CARRIED, CARRIED))
    assert errors(report) == []
    assert step_verdicts(report) == {"W_in": "ok", "W_out": "ok", "W_rec": "ok"}


def test_looked_up_rnn_future_delta_never_carried_is_found(tmp_path):
    # the backward loop never hands its delta to the earlier step: `future_layer_1_delta` stays zero
    path = planted(tmp_path, "binary_addition.py", LOOKED_UP, CARRIED, "")
    report = check(path)
    (found,) = errors(report)
    assert found["code"] == "BPD108"
    assert found["line"] == line_of(path, "layer_1_delta = (future_layer_1_delta")
    verdicts = step_verdicts(report)
    assert verdicts["W_out"] == "ok" and verdicts["W_in"] == verdicts["W_rec"] == "mismatch"
    assert found["pattern"] == "never-carried"
    assert f"line {line_of(path, 'future_layer_1_delta = np.zeros')} sets to zeros" in found["message"]
    assert found["message"].endswith("end the loop's body with `future_layer_1_delta = layer_1_delta`")
