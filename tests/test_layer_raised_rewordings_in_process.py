"""layer-raised's rewordings, checked in this process (issue 15, fourteenth round): a program that stops
inside its own training loop (at an update whose gradient is its parameter's transpose: the update, both
shapes and the fix; at another line: an error naming the loop), a backward that reads a global the program
binds, and a list of index arrays that raises. The programs are their CLI tests' own; every line from the
file's text."""

from __future__ import annotations

import numpy as np

from inprocess import checked, line_of, program_runs, restored_interpreter  # noqa: F401 - fixtures used by name
from test_backward_reads_a_global import NOTEBOOK
from test_list_of_index_arrays import LISTED, SVM, TUPLE
from test_training_loop_broken_by_its_own_lines import SCRIPT


def stopped(findings):
    (finding,) = [f for f in findings if f.name == "program-stopped"]
    return finding


def test_a_transposed_gradient_is_named_at_the_update_it_stops(tmp_path, program_runs):
    path, findings = checked(tmp_path, "net.py", SCRIPT.replace("dW2 = h.T @ ds", "dW2 = ds.T @ h"))
    finding = stopped(findings)
    update = line_of(path, "W2 -= lr * dW2")
    assert (finding.severity, finding.pattern, finding.line, finding.highlight) == ("error", "stopped-in-training", update, (update,))
    assert finding.message == (
        f"your program stopped at line {update} with ValueError (operands could not be broadcast together with shapes "
        "(32,3) (3,32) (32,3) ): the update of `W2` (line {0}) gets `dW2` of shape (3, 32) for `W2` of shape (32, 3), the "
        "transpose: compute `dW2` in `W2`'s shape (swap the factors of its product and transpose each)".format(update)
    )


def test_a_stop_at_another_line_of_the_loop_is_an_error_that_names_the_loop(tmp_path, program_runs):
    path, findings = checked(tmp_path, "net.py", SCRIPT.replace("dh = ds @ W2.T", "dh = ds @ W2"))
    finding = stopped(findings)
    line, loop = line_of(path, "dh = ds @ W2"), line_of(path, "for it in range(100):")
    assert (finding.severity, finding.pattern, finding.line) == ("error", "stopped-in-training", line)
    assert finding.message.startswith(f"your program stopped at line {line} with ValueError (matmul")
    assert finding.message.endswith(f"), inside your training loop (line {loop}), so it never trains: fix that line")


def test_the_right_loop_does_not_stop(tmp_path, program_runs):
    _, findings = checked(tmp_path, "net.py", SCRIPT)
    assert [f for f in findings if f.name == "program-stopped"] == []


def test_a_backward_reading_a_global_the_program_binds_is_told_to_read_what_it_is_given(tmp_path):
    reads_global = NOTEBOOK.replace(
        '    Wax, Waa, Wy = parameters["Wax"], parameters["Waa"], parameters["Wy"]\n    da_next', '    Wax, Waa = parameters["Wax"], parameters["Waa"]\n    da_next'
    )
    path, findings = checked(tmp_path, "rnn_cell.py", reads_global, run=False)
    (finding,) = [f for f in findings if f.pattern == "reads-a-global"]
    line, bound = line_of(path, "da_next = Wy.T @ dy"), line_of(path, "Wy = np.random.randn(2, 5)")
    assert (finding.name, finding.severity, finding.line, finding.fix) == ("layer-raised", "error", line, None)
    assert finding.message == (
        f"`cell_backward` reads `Wy` (line {line}), which it neither takes nor defines: your program binds it at line {bound}, "
        "outside the function, so the function computes with that global rather than with its own arguments: read it from "
        "what it is given (`parameters['Wy']`)"
    )


def test_a_list_of_index_arrays_that_raises_is_given_the_tuple_to_write(tmp_path, program_runs):
    path, findings = checked(tmp_path, "svm.py", SVM.replace(TUPLE, LISTED))
    (finding,) = [f for f in findings if f.pattern == "list-of-index-arrays"]
    assert (finding.severity, finding.line, finding.fix) == ("error", line_of(path, LISTED), "coef[y, np.arange(N)]")
    assert finding.message.endswith(
        "; `coef[[y, np.arange(N)]]` indexes with a list of index arrays, which NumPy before 1.23 read as one array per axis "
        f"and NumPy {np.__version__} reads as one index array on the first axis: write `coef[y, np.arange(N)]`"
    )
