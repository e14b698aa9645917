"""A program that reads its data through a module this machine does not have (`pd.read_csv(url)`
without pandas) hands its own `fit(X, y)` what the module's stand-in gives: an inert object, or an
array NumPy wrapped it in (`np.copy(df.values)`), and the user's line `X.shape[1]` raises. The stop is
the stand-in's, not the user's: the report says so, names the value and the module, and the training
method is driven on a synthetic batch after the file's definitions, as for a missing data file."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, replayed, write

# `tablekit` is installed nowhere: the loader gives the stand-in's object
CHURN = """\
    import numpy as np
    import tablekit as tk


    class LogisticGD:
        def __init__(self, eta=0.1, n_iter=50):
            self.eta = eta
            self.n_iter = n_iter

        def fit(self, X, y):
            self.w = np.zeros(X.shape[1])
            self.b = 0.0
            self.cost_ = []
            for _ in range(self.n_iter):
                p = 1.0 / (1.0 + np.exp(-(X @ self.w + self.b)))
                cost = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
                self.w -= self.eta * X.T @ (p - y) / len(y)
                self.b -= self.eta * np.mean(p - y)
                self.cost_.append(cost)
            return self


    table = tk.read_table("churn.csv")
    X = np.copy(table.values[:, :2])
    y = np.copy(table.values[:, 2])
    model = LogisticGD(eta=0.5).fit(X, y)
    print(model.cost_[-1])
"""


def _stopped(report: dict) -> dict:
    (stopped,) = [f for f in report["findings"] if f["code"] == "BPD021"]
    return stopped


def test_a_fit_stopped_by_the_stand_ins_data_is_driven_and_the_stop_is_told_as_the_stand_ins(tmp_path):
    path = write(tmp_path, "churn.py", CHURN)
    report = check(path)
    assert errors(report) == []
    assert {p["name"] for p in replayed(report)["parameters"]} == {"self.w", "self.b"}
    stopped = _stopped(report)
    assert stopped["line"] == line_of(path, "self.w = np.zeros(X.shape[1])")
    assert "on `X`, which holds what the stand-in for `tablekit` (missing here) returned" in stopped["message"]
    assert "not your code's" in stopped["message"] and "where `tablekit` can be imported" in stopped["message"]


def test_a_sigmoid_derivative_in_its_update_is_found_at_its_line(tmp_path):
    wrong = "self.w -= self.eta * X.T @ ((p - y) * p * (1 - p)) / len(y)"
    path = planted(tmp_path, "churn.py", CHURN, "self.w -= self.eta * X.T @ (p - y) / len(y)", wrong)
    assert {f["line"] for f in errors(check(path))} == {line_of(path, wrong)}


def test_a_stop_on_the_programs_own_array_is_not_put_on_a_stand_in(tmp_path):
    own = CHURN.replace("import tablekit as tk\n", "").replace('tk.read_table("churn.csv")', "np.arange(3.0)")
    path = write(tmp_path, "churn.py", own)
    stopped = _stopped(check(path))
    assert stopped["line"] == line_of(path, "X = np.copy(table.values[:, :2])")
    assert "stand-in" not in stopped["message"] and "run the file on its own to see the error" in stopped["message"]


def test_a_file_with_nothing_of_its_own_stopped_by_a_stand_in_is_told_to_run_where_the_module_is(tmp_path):
    # no training of its own to drive: the file only reads a table and plots it
    source = """\
        import numpy as np
        import tablekit as tk

        table = tk.read_table("churn.csv")
        X = np.copy(table.values[:, :2])
        print(X.shape[1])
    """
    report = check(write(tmp_path, "peek.py", source))
    (finding,) = [f for f in report["findings"] if f["name"] == "nothing-to-check"]
    assert "it stopped on what the stand-in for `tablekit` (not installed here) returned" in finding["message"]
    assert "make it run that far" not in finding["message"]


# the program's top level written inside `if __name__ == "__main__":`, its loader opening the data
# with a stand-in's context manager, and the model it trains imported from a package of its own
GUARDED = """\
    import numpy as np
    import hdfkit

    from models.captioner import Captioner


    def load_features(path):
        data = {}
        with hdfkit.File(path, "r") as f:
            for key, value in f.items():
                data[key] = np.asarray(value)
        return data


    if __name__ == "__main__":
        data = load_features("/home/someone/features.h5")
        model = Captioner(input_dim=data["features"].shape[1], hidden_dim=16)
        model.train(data["features"], data["captions"], epochs=5)
"""


def test_a_main_block_stopped_by_a_stand_in_says_where_and_why_not_that_the_program_finished(tmp_path):
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "__init__.py").write_text("")
    (tmp_path / "models" / "captioner.py").write_text("class Captioner:\n    pass\n")
    path = write(tmp_path, "train_captions.py", GUARDED)
    report = check(path)
    assert report["extras"]["observed_run"]["stopped"] == "raised"
    (finding,) = [f for f in report["findings"] if f["name"] == "nothing-to-check"]
    assert f"stopped at line {line_of(path, 'data = load_features(')} before it built anything" in finding["message"]
    assert "it stopped on what the stand-in for `hdfkit` (not installed here) returned" in finding["message"]
