"""A notebook exported as a script, its exercise not done: `best_softmax = None` as handed out, the
search that should set it still `pass`, and a later cell reading `best_softmax.W`. That line raises
whenever the file runs; it says the notebook is not finished, not that the user's code is wrong, and
the functions the file defines are checked all the same."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, write

NOTEBOOK = '''\
import numpy as np


def softmax_loss_vectorized(W, X, y, reg):
    scores = X @ W
    scores -= scores.max(axis=1, keepdims=True)
    p = np.exp(scores)
    p /= p.sum(axis=1, keepdims=True)
    n = X.shape[0]
    loss = -np.log(p[np.arange(n), y]).mean() + reg * np.sum(W * W)
    p[np.arange(n), y] -= 1
    dW = X.T @ p / n + 2 * reg * W
    return loss, dW


# In[ ]:

best_softmax = None
# YOUR CODE HERE: a search over learning rates that keeps the best classifier in best_softmax
pass

# In[ ]:

w = best_softmax.W[:-1, :]
print(w.shape)
'''


def test_a_placeholder_still_none_is_a_warning_and_the_functions_are_checked(tmp_path):
    path = write(tmp_path, "softmax_notebook.py", NOTEBOOK)
    report = check(path)
    assert errors(report) == []
    (finding,) = [f for f in report["findings"] if f["name"] == "load-error"]
    assert (finding["severity"], finding["pattern"]) == ("warning", "not-written")
    assert finding["line"] == line_of(path, "w = best_softmax.W")
    assert f"`best_softmax` is still the `None` it started as (line {line_of(path, 'best_softmax = None')})" in finding["message"]
    assert report["verdict"].endswith(f"but 1 part is not written yet: `best_softmax` (line {line_of(path, 'w = best_softmax.W')})")
    assert any(b["what"] == "softmax_loss_vectorized" and not b["skipped"] for b in report["built"])


def test_a_name_set_to_something_else_since_is_still_the_users_error(tmp_path):
    source = NOTEBOOK.replace("pass\n", "best_softmax = 3\n", 1)
    path = write(tmp_path, "softmax_notebook.py", source)
    (finding,) = [f for f in check(path)["findings"] if f["name"] == "load-error"]
    assert finding["severity"] == "error"
