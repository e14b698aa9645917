"""A data loader was replaced by small synthetic data while the program ran.

What it finds:
    The program loads its data with a loader that is not on this machine
    (the book's `dataset/mnist.py` not beside the file) or would download it
    (`keras.datasets.mnist.load_data`, `fetch_openml`, TensorFlow's
    `read_data_sets`, Nielsen's `mnist_loader`). backprop-doctor gave the
    program a few hundred synthetic samples of the documented shapes and
    dtypes instead, honouring the loader's flags (one-hot or labels,
    flattened or images, normalised or 0-255), with each class a noisy copy
    of its own prototype so that the loss can fall.

Why it matters:
    The layers and the network were checked at the shapes the real data has,
    but on synthetic values: the loss curve of the observed run is the curve
    on that synthetic data, not on yours.

    A program that opens a file named on its command line (`open(sys.argv[1])`)
    is given the name of a file of synthetic English text, since backprop-doctor
    runs it with no arguments.

Example:
    from dataset.mnist import load_mnist       # dataset/ is not beside the file
    (x_train, t_train), (x_test, t_test) = load_mnist(normalize=True, one_hot_label=True)

    The same when the program's own loader stops it (`Xtrain, Ytrain, Xtest,
    Ytest = get_data()` raises on a missing file, or calls `exit()`): the
    program is run again with synthetic arrays in place of what that call
    returns, their count from the assignment, their kind from each name, and
    its training step is replayed on them.

Fix:
    Nothing to fix. Put the data set's folder beside the file to have the
    program observed on the real data.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from backprop_doctor.findings import Finding

NAME = "synthetic-data"
CODE = "BPD022"
SEVERITY = "info"
STAGE = "load"


def findings(replaced: Iterable[tuple[str, str, str | None, int | None]], shown: str) -> list[Finding]:
    """One finding per loader call site (`replaced` is `loading.datasets.REPLACED`)."""
    from backprop_doctor.rules import rule

    found, seen = [], set()
    for loader, what, file, line in replaced:
        if (loader, file, line) in seen:
            continue
        seen.add((loader, file, line))
        same = file is not None and os.path.realpath(file) == os.path.realpath(shown)
        where = f"line {line}" if line else "your program"
        if file and not same:
            where += f" of {os.path.basename(file)}"
        if loader.startswith("sys.argv["):  # `loading.arguments`
            found.append(
                rule(NAME).finding(
                    f"your program reads `{loader}` ({where}), a command-line argument, and opens it as a file: backprop-doctor "
                    f"runs it with no arguments, so it gave the name of a file of {what.rpartition('text file of ')[2] or 'synthetic text'} "
                    "in its place: the observed run and its loss curve use that text, not your data",
                    file=shown if same or file is None else file,
                    line=line,
                    highlight=(line,) if line else (),
                )
            )
            continue
        found.append(
            rule(NAME).finding(
                f"`{loader}` ({where}) is missing or would download, so backprop-doctor gave your program synthetic data "
                f"of the same shapes instead ({what}): the observed run and its loss curve use that data, not yours",
                file=shown if same or file is None else file,
                line=line,
                highlight=(line,) if line else (),
            )
        )
    return found


def stood_in(given: str, shown: str, line: int | None, ended: bool = False) -> Finding:
    """The finding for synthetic data given in place of the program's own loader (`replay.standin`);
    `given`: the call and what it was made to return; `ended`: the program did not stop there, it
    went past its training without running it, on what the loader gave."""
    from backprop_doctor.rules import rule

    how = (
        f"your program never reached its training on what its own data loader (line {line}) gave"
        if ended
        else f"your program stopped inside its own data loader (line {line}) before its training ran"
    )
    return rule(NAME).finding(
        f"{how}, so backprop-doctor "
        f"ran it again with synthetic data in that call's place (`{given}`): the training step was replayed and checked on "
        "that data, not yours; the shapes and the kind of targets are guessed from the names the data is given",
        file=shown,
        line=line,
        highlight=(line,) if line else (),
    )
