"""A Python 2 file whose sizes come from `/` between integers (an int in Python 2, a float in Python 3)
stops building with "'float' object cannot be interpreted as an integer": the error names the
line of that division and says to write `//`."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, write

NET = '''\
import numpy as np


class Net(object):
    def __init__(self, input_dim=16, num_classes=3):
        hidden = input_dim / 2
        self.params = {'W1': np.random.randn(input_dim, hidden) * 0.1, 'b1': np.zeros(hidden),
                       'W2': np.random.randn(hidden, num_classes) * 0.1, 'b2': np.zeros(num_classes)}
        print 'built', hidden

    def loss(self, X, y=None):
        h = np.maximum(0, X.dot(self.params['W1']) + self.params['b1'])
        scores = h.dot(self.params['W2']) + self.params['b2']
        if y is None:
            return scores
        p = np.exp(scores - scores.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        n = X.shape[0]
        loss = -np.log(p[np.arange(n), y]).mean()
        p[np.arange(n), y] -= 1
        p /= n
        dh = p.dot(self.params['W2'].T) * (h > 0)
        grads = {'W2': h.T.dot(p), 'b2': p.sum(axis=0), 'W1': X.T.dot(dh), 'b1': dh.sum(axis=0)}
        return loss, grads
'''


def test_the_python2_division_is_named(tmp_path):
    path = write(tmp_path, "net.py", NET)
    (found,) = [f for f in errors(check(path)) if "'float' object cannot be interpreted as an integer" in f["message"]]
    assert found["pattern"] == "python2-division"
    assert found["message"].endswith(f"write `//` at line {line_of(path, 'hidden = input_dim / 2')}")
    assert "this is Python 2 code" in found["message"]


def test_the_same_division_in_a_file_python_3_parses_is_named_too(tmp_path):
    path = write(tmp_path, "net.py", NET.replace("        print 'built', hidden\n", ""))
    (found,) = [f for f in errors(check(path)) if "'float' object cannot be interpreted as an integer" in f["message"]]
    assert found["pattern"] == "python2-division"
    assert "gives a float in Python 3" in found["message"]
    assert found["message"].endswith(f"write `//` at line {line_of(path, 'hidden = input_dim / 2')}")


POOL = '''\
import numpy as np


def pool_forward(x, pool_param):
    n, c, h, w = x.shape
    s = pool_param["stride"]
    oh, ow = (h - 2) / s + 1, (w - 2) / s + 1
    shape = (n, c, oh, ow)
    out = np.zeros(shape)
    return out, (x, pool_param)


def pool_backward(dout, cache):
    x, pool_param = cache
    return np.zeros_like(x)
'''


def test_a_division_reached_through_a_tuple_target_and_a_shape_name_is_named(tmp_path):
    path = write(tmp_path, "pool.py", POOL)
    (found,) = [f for f in errors(check(path)) if "'float' object cannot be interpreted as an integer" in f["message"]]
    assert found["pattern"] == "python2-division"
    assert found["message"].endswith(f"write `//` at line {line_of(path, 'oh, ow = (h - 2) / s + 1')}")
