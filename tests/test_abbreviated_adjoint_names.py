"""Adjoints named with abbreviations of their forward values (`grad_wrt_out_l_input` of
`output_layer_input`, `grad_wrt_hidden_l_input` of `hidden_layer_input`) are paired with them, so
a wrong output adjoint is named first, not the hidden one it feeds (which shares the word `input`
with a two-word name)."""

from tests.userfiles import check, errors, line_of, planted

SCRIPT = """
    import numpy as np

    np.random.seed(3)
    X = np.random.randn(64, 3)
    y = (X[:, :1] - X[:, 1:2] > 0).astype(float)
    W, w0 = np.random.randn(3, 8) * 0.5, np.zeros((1, 8))
    V, v0 = np.random.randn(8, 1) * 0.5, np.zeros((1, 1))
    lr = 0.5

    for i in range(300):
        hidden_layer_input = X.dot(W) + w0
        hidden_output = np.tanh(hidden_layer_input)
        output_layer_input = hidden_output.dot(V) + v0
        y_pred = 1 / (1 + np.exp(-output_layer_input))
        loss = np.mean((y_pred - y) ** 2)
        grad_wrt_out_l_input = 2 * (y_pred - y) / len(X) * y_pred * (1 - y_pred)
        grad_v = hidden_output.T.dot(grad_wrt_out_l_input)
        grad_v0 = np.sum(grad_wrt_out_l_input, axis=0, keepdims=True)
        grad_wrt_hidden_l_input = grad_wrt_out_l_input.dot(V.T) * (1 - hidden_output ** 2)
        grad_w = X.T.dot(grad_wrt_hidden_l_input)
        grad_w0 = np.sum(grad_wrt_hidden_l_input, axis=0, keepdims=True)
        V -= lr * grad_v
        v0 -= lr * grad_v0
        W -= lr * grad_w
        w0 -= lr * grad_w0
"""


def test_the_correct_script_is_clean(tmp_path):
    assert errors(check(planted(tmp_path, "mlp.py", SCRIPT, "* y_pred * (1 - y_pred)", "* y_pred * (1 - y_pred)"))) == []


def test_a_wrong_output_adjoint_is_named_before_the_hidden_one(tmp_path):
    path = planted(tmp_path, "mlp.py", SCRIPT, "* y_pred * (1 - y_pred)", "* y_pred")
    found = errors(check(path))
    assert found and found[0]["code"] == "BPD108", found
    assert found[0]["line"] == line_of(path, "grad_wrt_out_l_input = 2 *")
    assert "`output_layer_input`" in found[0]["message"]
