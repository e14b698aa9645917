"""A network of scalar weights held by an object and trained per sample (a popular tutorial's layout).

`self.w1 ... self.w6`, `self.b1 ... self.b3` are Python floats of the network object; `train` loops
over the samples and moves each by `learn_rate * d_L_d_ypred * d_ypred_d_h1 * d_h1_d_w1`, the chain
rule written out as partial derivatives. Such a file used to be "nothing to check": the rate was
called `learn_rate`, `d_L_d_ypred` did not look like a gradient, the loop over `zip(data, labels)`
was taken for a loop over parameters, and a number held by an object had no path. Its output error
`-2 * (y_true - y_pred)` implies the summed squared error without the 1/2; partial derivatives like
`d_ypred_d_h1` are factors, not gradients of the loss, so a mistake is named where it is.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, replayed, write

NETWORK = '''\
import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def deriv_sigmoid(x):
    fx = sigmoid(x)
    return fx * (1 - fx)


def mse_loss(y_true, y_pred):
    return ((y_true - y_pred) ** 2).mean()


class TinyNet:
    def __init__(self):
        self.w1, self.w2, self.w3 = np.random.normal(), np.random.normal(), np.random.normal()
        self.w4, self.w5, self.w6 = np.random.normal(), np.random.normal(), np.random.normal()
        self.b1, self.b2, self.b3 = np.random.normal(), np.random.normal(), np.random.normal()

    def feedforward(self, x):
        h1 = sigmoid(self.w1 * x[0] + self.w2 * x[1] + self.b1)
        h2 = sigmoid(self.w3 * x[0] + self.w4 * x[1] + self.b2)
        return sigmoid(self.w5 * h1 + self.w6 * h2 + self.b3)

    def train(self, data, all_y_trues):
        learn_rate = 0.1
        epochs = 1000
        for epoch in range(epochs):
            for x, y_true in zip(data, all_y_trues):
                sum_h1 = self.w1 * x[0] + self.w2 * x[1] + self.b1
                h1 = sigmoid(sum_h1)
                sum_h2 = self.w3 * x[0] + self.w4 * x[1] + self.b2
                h2 = sigmoid(sum_h2)
                sum_o1 = self.w5 * h1 + self.w6 * h2 + self.b3
                o1 = sigmoid(sum_o1)
                y_pred = o1

                d_L_d_ypred = -2 * (y_true - y_pred)
                d_ypred_d_w5 = h1 * deriv_sigmoid(sum_o1)
                d_ypred_d_w6 = h2 * deriv_sigmoid(sum_o1)
                d_ypred_d_b3 = deriv_sigmoid(sum_o1)
                d_ypred_d_h1 = self.w5 * deriv_sigmoid(sum_o1)
                d_ypred_d_h2 = self.w6 * deriv_sigmoid(sum_o1)
                d_h1_d_w1 = x[0] * deriv_sigmoid(sum_h1)
                d_h1_d_w2 = x[1] * deriv_sigmoid(sum_h1)
                d_h1_d_b1 = deriv_sigmoid(sum_h1)
                d_h2_d_w3 = x[0] * deriv_sigmoid(sum_h2)
                d_h2_d_w4 = x[1] * deriv_sigmoid(sum_h2)
                d_h2_d_b2 = deriv_sigmoid(sum_h2)

                self.w1 -= learn_rate * d_L_d_ypred * d_ypred_d_h1 * d_h1_d_w1
                self.w2 -= learn_rate * d_L_d_ypred * d_ypred_d_h1 * d_h1_d_w2
                self.b1 -= learn_rate * d_L_d_ypred * d_ypred_d_h1 * d_h1_d_b1
                self.w3 -= learn_rate * d_L_d_ypred * d_ypred_d_h2 * d_h2_d_w3
                self.w4 -= learn_rate * d_L_d_ypred * d_ypred_d_h2 * d_h2_d_w4
                self.b2 -= learn_rate * d_L_d_ypred * d_ypred_d_h2 * d_h2_d_b2
                self.w5 -= learn_rate * d_L_d_ypred * d_ypred_d_w5
                self.w6 -= learn_rate * d_L_d_ypred * d_ypred_d_w6
                self.b3 -= learn_rate * d_L_d_ypred * d_ypred_d_b3

            if epoch % 10 == 0:
                y_preds = np.apply_along_axis(self.feedforward, 1, data)
                loss = mse_loss(all_y_trues, y_preds)
                print("Epoch %d loss: %.3f" % (epoch, loss))


data = np.array([[-2, -1], [2.5, 0.6], [1.7, 0.4], [-1.5, -0.6]])
all_y_trues = np.array([1, 0, 0, 1])
network = TinyNet()
network.train(data, all_y_trues)
'''

WEIGHTS = {"self.w1", "self.w2", "self.w3", "self.w4", "self.w5", "self.w6", "self.b1", "self.b2", "self.b3"}


def test_the_scalar_weights_of_the_object_are_replayed_and_the_correct_network_is_clean(tmp_path):
    report = check(write(tmp_path, "tiny_net.py", NETWORK))
    assert errors(report) == []
    result = replayed(report)
    assert {p["name"]: p["wrong"] for p in result["parameters"]} == dict.fromkeys(WEIGHTS, False)
    assert result["loss"] == "Σ(y_pred − y_true)²"


def test_a_wrong_partial_derivative_of_the_output_is_named_at_its_line(tmp_path):
    path = planted(tmp_path, "tiny_net.py", NETWORK, "d_ypred_d_w5 = h1 * deriv_sigmoid", "d_ypred_d_w5 = h2 * deriv_sigmoid")
    (finding,) = errors(check(path))
    assert (finding["code"], finding["param"], finding["line"]) == ("BPD108", "self.w5", line_of(path, "d_ypred_d_w5 = h2"))


def test_a_wrong_partial_derivative_of_a_hidden_unit_is_named_at_its_line_not_at_a_chain_factor(tmp_path):
    path = planted(tmp_path, "tiny_net.py", NETWORK, "d_h1_d_w1 = x[0] * deriv_sigmoid(sum_h1)", "d_h1_d_w1 = x[0] * sigmoid(sum_h1)")
    (finding,) = errors(check(path))
    assert (finding["code"], finding["param"], finding["line"]) == ("BPD108", "self.w1", line_of(path, "d_h1_d_w1 = x[0] * sigmoid"))
