"""A Python 2 file (print statements, `xrange`) is read as Python 3, one line for one line, and
checked; a warning lists the lines. Its weight update by a matrix product kept in a variable
of any name (`adjustment = dot(X.T, error * slope)`, then `self.weights += adjustment`) is an
update like any other."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, replayed, write

PYTHON2 = '''\
from numpy import exp, array, random, dot


class SingleNeuron():
    def __init__(self):
        random.seed(1)
        self.synaptic_weights = 2 * random.random((3, 1)) - 1

    def __sigmoid(self, x):
        return 1 / (1 + exp(-x))

    def __sigmoid_derivative(self, x):
        return x * (1 - x)

    def train(self, inputs, outputs, iterations):
        for iteration in xrange(iterations):
            output = self.think(inputs)
            error = outputs - output
            adjustment = dot(inputs.T, error * self.__sigmoid_derivative(output))
            self.synaptic_weights += adjustment

    def think(self, inputs):
        return self.__sigmoid(dot(inputs, self.synaptic_weights))


if __name__ == "__main__":
    neuron = SingleNeuron()
    print "Random starting weights:"
    print neuron.synaptic_weights
    inputs = array([[0, 0, 1], [1, 1, 1], [1, 0, 1], [0, 1, 1]])
    outputs = array([[0, 1, 1, 0]]).T
    neuron.train(inputs, outputs, 10000)
    print "New weights:", neuron.synaptic_weights
'''


def test_a_python2_file_is_read_as_python3_and_checked(tmp_path):
    path = write(tmp_path, "neuron.py", PYTHON2)
    report = check(path)
    assert errors(report) == []
    (finding,) = [f for f in report["findings"] if f["name"] == "python2"]
    prints = [line_of(path, 'print "Random'), line_of(path, "print neuron.synaptic"), line_of(path, 'print "New')]
    assert (finding["code"], finding["severity"], finding["line"], finding["highlight"]) == ("BPD012", "warning", prints[0], prints)
    result = replayed(report)
    assert [(p["name"], p["wrong"]) for p in result["parameters"]] == [("self.synaptic_weights", False)]
    assert path.read_text(encoding="utf-8") == PYTHON2  # read as Python 3, never written


def test_a_wrong_slope_in_a_python2_file_is_found_at_the_derivative_and_the_guessed_loss_stays_a_warning(tmp_path):
    path = planted(tmp_path, "neuron.py", PYTHON2, "return x * (1 - x)", "return x * (1 + x)")
    report = check(path)
    # the derivative method never reads the instance: it is checked against `__sigmoid` on its own
    (wrong,) = errors(report)
    assert (wrong["name"], wrong["line"]) == ("gradient-mismatch", line_of(path, "return x * (1 + x)"))
    # the replayed step's loss is only guessed: no gradient of it is called wrong
    (finding,) = [f for f in report["findings"] if f["name"] == "step-gradient-mismatch"]
    assert (finding["severity"], finding["pattern"], finding["line"]) == ("warning", "no-usual-loss", line_of(path, "self.synaptic_weights += adjustment"))
    assert "nothing-to-check" not in {f["name"] for f in report["findings"]}


def test_a_file_that_is_not_python2_keeps_its_syntax_error(tmp_path):
    path = write(tmp_path, "broken.py", "def f(:\n    print 'x'\n")
    (finding,) = errors(check(path))
    assert finding["name"] == "syntax-error"


def test_a_print_statement_over_several_lines_gets_its_parentheses_round_all_of_them():
    from backprop_doctor.loading.source import python2_rescue

    text = 'for j in xrange(3):\n    print "Epoch {0}: {1}".format(\n        j, j * 2)  # progress\n    print "done"\n'
    rescued = python2_rescue(text, "epochs.py")
    assert rescued is not None
    fixed, _tree, changed = rescued
    assert fixed.split("\n")[1:4] == ['    print("Epoch {0}: {1}".format(', "        j, j * 2))  # progress", '    print("done")']
    assert [line for line, _ in changed] == [2, 4]
