"""A script that draws a minibatch (`x_batch = x_train[batch_mask]`) and only reports the loss over
the whole training set now and then (`network.loss(x_train, t_train)`): the replay computes that loss
on the batch the update follows, so a correct network's updates are right, with no finding; over the
whole set they would all differ from it."""

from tests.userfiles import check, errors, planted, replayed

SCRIPT = """
    import numpy as np


    class Net:
        def __init__(self, n_in, n_hidden, n_out):
            self.params = {"W1": np.random.randn(n_in, n_hidden) * 0.3, "b1": np.zeros(n_hidden),
                           "W2": np.random.randn(n_hidden, n_out) * 0.3, "b2": np.zeros(n_out)}

        def predict(self, x):
            h = np.tanh(x @ self.params["W1"] + self.params["b1"])
            return h @ self.params["W2"] + self.params["b2"], h

        def loss(self, x, t):
            y, _ = self.predict(x)
            return 0.5 * np.sum((y - t) ** 2) / x.shape[0]

        def gradient(self, x, t):
            y, h = self.predict(x)
            dy = (y - t) / x.shape[0]
            dh = dy @ self.params["W2"].T * (1 - h ** 2)
            return {"W1": x.T @ dh, "b1": dh.sum(axis=0), "W2": h.T @ dy, "b2": dy.sum(axis=0)}


    np.random.seed(5)
    x_train = np.random.randn(400, 3)
    t_train = np.sin(x_train[:, :1]) + 0.3 * x_train[:, 1:2]
    network = Net(3, 16, 1)
    for i in range(300):
        batch_mask = np.random.choice(400, 40)
        x_batch = x_train[batch_mask]
        t_batch = t_train[batch_mask]
        grad = network.gradient(x_batch, t_batch)
        for key in ("W1", "b1", "W2", "b2"):
            network.params[key] -= 0.1 * grad[key]
        if i % 100 == 0:
            print(i, network.loss(x_train, t_train))
"""


def test_the_reported_loss_is_replayed_on_the_batch_and_every_update_is_right(tmp_path):
    report = check(planted(tmp_path, "train.py", SCRIPT, "dy = (y - t) / x.shape[0]", "dy = (y - t) / x.shape[0]"))
    assert errors(report) == []
    step = replayed(report)
    assert step["loss"] == "network.loss"
    assert len(step["parameters"]) == 4 and not any(m["wrong"] for m in step["parameters"]), step["parameters"]
