"""A program that loads its data through a module this machine does not have
(`trX, trY, teX, teY = digitsets.load_data()`) stops at that very line: the module's stand-in returns
nothing to unpack, and no frame of a loader of the user's own lies below it. That line is given
synthetic arrays, the training after it is replayed on them, and the stop is told as the stand-in's."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, replayed, write

# `digitsets` is installed nowhere
SCRIPT = """\
    import numpy as np
    import digitsets


    def relu(z):
        return np.maximum(0, z)


    trX, trY, teX, teY = digitsets.load_data()
    n, d = trX.shape
    k = int(trY.max()) + 1
    T = np.eye(k)[trY]
    W1 = np.random.randn(d, 16) * 0.1
    W2 = np.random.randn(16, k) * 0.1
    lr = 0.1
    for epoch in range(30):
        Z1 = trX @ W1
        A1 = relu(Z1)
        out = A1 @ W2
        loss = 0.5 * np.sum((out - T) ** 2) / n
        d_out = (out - T) / n
        dZ1 = d_out @ W2.T * (Z1 > 0)
        W2 -= lr * A1.T @ d_out
        W1 -= lr * trX.T @ dZ1
        print(epoch, loss)
"""


def _main(text: str) -> str:
    """The same program with its statements from the loader on inside `main()`."""
    head, _, body = text.partition("    trX, trY")
    indented = "".join(f"    {line}" if line.strip() else line for line in ("    trX, trY" + body).splitlines(keepends=True))
    return f"{head}    def main():\n{indented}\n\n    main()\n"


def test_a_loader_of_a_missing_module_is_given_synthetic_data_and_the_training_is_clean(tmp_path):
    path = write(tmp_path, "mlp.py", SCRIPT)
    report = check(path)
    assert errors(report) == []
    assert {p["name"] for p in replayed(report)["parameters"]} == {"W1", "W2"}
    call = line_of(path, "= digitsets.load_data()")
    assert [f["line"] for f in report["findings"] if f["code"] == "BPD022"] == [call]
    (stopped,) = [f for f in report["findings"] if f["code"] == "BPD021"]
    assert stopped["line"] == call and "what the stand-in for `digitsets` (missing here) returned" in stopped["message"]


def test_inside_main_too(tmp_path):
    path = write(tmp_path, "mlp.py", _main(SCRIPT))
    report = check(path)
    assert errors(report) == []
    assert {p["name"] for p in replayed(report)["parameters"]} == {"W1", "W2"}
    (stopped,) = [f for f in report["findings"] if f["code"] == "BPD021"]
    assert "the stand-in for `digitsets`" in stopped["message"]


def test_a_relu_derivative_left_out_is_found_at_its_line(tmp_path):
    path = planted(tmp_path, "mlp.py", SCRIPT, "dZ1 = d_out @ W2.T * (Z1 > 0)", "dZ1 = d_out @ W2.T")
    assert {f["line"] for f in errors(check(path))} == {line_of(path, "dZ1 = d_out @ W2.T")}
