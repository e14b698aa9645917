"""Synthetic data in place of the user's own data loader, when the program stops inside it.

A program that loads its data through a function of its own (`Xtrain, Xtest, Ytrain, Ytest =
get_normalized_data()`, from a `util.py` beside it or defined in the file) stops inside that
function on a machine without the data: the file is not there (FileNotFoundError), the loader
checks and calls `exit()`, or the module it reads with is missing and its stand-in fails. The
training code after it never runs, at the top level or inside `main()`.

`loader_call` finds that call from where the program stopped (`Record.stack`); `candidates` rewrite
its one assignment so that its value is synthetic arrays, as many as the assignment unpacks, each
by its name: a float batch for an X-like name (`Xtrain`, `x_test`), targets in one layout of
`driver.LAYOUTS` for a Y-like one (`Ytrain`, `t_train`), the same batch for training and held-out
names; a text corpus (`sentences, word2idx = get_sentences()`) gets sentences of word indices and a
vocabulary that knows every word it is asked for. A network whose weights have sizes of their own
stops on the arrays' shapes, and `widths` reads the sizes to make them at from its errors. Every
other line of the program runs as written and keeps its number.
"""

from __future__ import annotations

import ast
import copy
import dataclasses
import os
import re
from dataclasses import dataclass
from typing import Any

from backprop_doctor.context import SourceFile
from backprop_doctor.observe.record import Record
from backprop_doctor.replay.driver import _X, _X_HELD, _Y, _Y_HELD, CLASSES, FEATURES, LAYOUTS, Driver, batch, described
from backprop_doctor.static.steps import TrainingStep

SAMPLES = 1000  # more than the mini-batch of 500 that a loop over `N // batch_size` batches takes
# a stop on the arrays' sizes: NumPy's words for shapes that do not fit
_SHAPES = re.compile(r"shapes? \(|could not be broadcast|not aligned|mismatch in its core dimension|cannot reshape|size \d+ is different")
_WIDEST = 4096  # a sample of 64 x 64 pixels; a larger number in the error is a count of samples or a product
_MOST_CLASSES = 1000
_SPLIT = r"(?:(?:train(?:ing)?|val|valid|validation|test|dev)_?)?"
# what else the arrays of a data set are called: `train_images`, `test_labels`, `val_features`
_INPUTS = re.compile(rf"(?i){_SPLIT}(?:images?|imgs|features|inputs|samples|data_?set)(?:_?(?:train|val|test|dev))?")
_TARGETS = re.compile(rf"(?i){_SPLIT}(?:labels?|targets?|classes)(?:_?(?:train|val|test|dev))?")
# the split written first and short: `trX, trY, teX, teY = mnist.load_data()`
_SHORT_X = re.compile(r"(?i)(?:tr|trn|te|tst|va)_?x")
_SHORT_Y = re.compile(r"(?i)(?:tr|trn|te|tst|va)_?y")
# what a data loader is called: `get_data`, `getData`, `load_dataset`, `read_mnist`, `get_normalized_data`
_LOADER = re.compile(r"(?i)\w*(get|load|read|fetch|prep|data)\w*")
# a text corpus as word indices and its vocabulary: `sentences, word2idx = get_sentences_with_word2idx()`
_SEQUENCES = re.compile(r"(?i)(?:\w+_)?(?:sentences|sequences|sents|seqs)")
_VOCABULARY = re.compile(r"(?i)word_?(?:2|to)_?(?:idx|index|ix|id)|w2i|token_?(?:2|to)_?(?:idx|index|ix|id)|vocab(?:ulary)?")
WORDS, SENTENCES = 40, 100


@dataclass(frozen=True)
class Loader:
    statement: ast.Assign  # `Xtrain, Ytrain, Xtest, Ytest = get_data()`
    call: str  # "get_data()", as the user wrote it
    kinds: Any  # the targets' kinds, nested as the targets are: "X", "Y"; "S" (sentences), "V" (their vocabulary)


def loader_call(source: SourceFile, stack: tuple[tuple[str, int], ...], stub: bool = False) -> Loader | None:
    """The assignment of `source` whose call to a data loader the program stopped inside (`stack`,
    the user's frames when it stopped, outermost first): the innermost one, with a frame of user
    code below it (the loader's own), whose every target is named as inputs or targets are. With
    `stub` (it stopped on a stand-in: `stopped_on_standin`), also the one it stopped at itself: a
    missing module's loader (`trX, trY, teX, teY = mnist.load_data()`) has no frame of its own."""
    if source.tree is None:
        return None
    path = os.path.realpath(source.path)
    for depth in range(len(stack) - (1 if stub else 2), -1, -1):  # the last frame is where it stopped, inside the loader
        file, line = stack[depth]
        if os.path.realpath(file) != path:
            continue
        for node in ast.walk(source.tree):
            if isinstance(node, ast.Assign) and node.lineno <= line <= (node.end_lineno or node.lineno):
                loader = _loader(source, node)
                if loader is not None:
                    return loader
    return None


def stopped_on_standin(record: Record) -> bool:
    """The program stopped on what a missing module's stand-in returned: the statement it stopped at
    was skipped for one, a name on its line holds one (`Record.standin`), or the error is about one
    (the stand-in is callable and iterates as empty: "not enough values to unpack (expected 4, got 0)")."""
    if record.error is None:
        return False
    message, _file, line = record.error
    return record.standin is not None or line in {skipped for skipped, _ in record.skipped} or "Stub" in message or "got 0)" in message


def _loader(source: SourceFile, node: ast.Assign) -> Loader | None:
    call = node.value
    if not isinstance(call, ast.Call) or len(node.targets) != 1:
        return None
    name = call.func.id if isinstance(call.func, ast.Name) else call.func.attr if isinstance(call.func, ast.Attribute) else ""
    kinds = _kinds(node.targets[0])
    if not _LOADER.fullmatch(name) or kinds is None or not ({"X", "Y"} <= set(_flat(kinds)) or {"S", "V"} <= set(_flat(kinds))):
        return None  # inputs and targets both: `data = open(path).read()` is text, whatever it is called
    return Loader(node, ast.get_source_segment(source.text, call) or f"{name}()", kinds)


def _kinds(target: ast.expr) -> Any:
    """"X" for a name of inputs, "Y" for a name of targets, a tuple for a tuple; None for anything else."""
    if isinstance(target, (ast.Tuple, ast.List)):
        kinds = tuple(_kinds(t) for t in target.elts)
        return None if None in kinds else kinds
    if not isinstance(target, ast.Name):
        return None
    if _X.fullmatch(target.id) or _X_HELD.fullmatch(target.id) or _INPUTS.fullmatch(target.id) or _SHORT_X.fullmatch(target.id):
        return "X"
    if _Y.fullmatch(target.id) or _Y_HELD.fullmatch(target.id) or _TARGETS.fullmatch(target.id) or _SHORT_Y.fullmatch(target.id):
        return "Y"
    if _SEQUENCES.fullmatch(target.id):
        return "S"
    if _VOCABULARY.fullmatch(target.id):
        return "V"
    return None


def _flat(kinds: Any) -> list[str]:
    return [k for kind in kinds for k in _flat(kind)] if isinstance(kinds, tuple) else [kinds]


def loader_before(source: SourceFile, step: TrainingStep) -> Loader | None:
    """The loader assignment before the loop of `step`, in the function that holds it (or at the top
    level): for a program that ran to its end without reaching that loop, because what the loader
    gave was empty (a corpus read through a missing `nltk`, `for sentence in sentences` over none)."""
    if source.tree is None:
        return None
    inside = {id(n) for d in ast.walk(source.tree) if isinstance(d, (ast.FunctionDef, ast.AsyncFunctionDef)) for n in ast.walk(d)}
    found = [
        loader for node in ast.walk(source.tree)
        if isinstance(node, ast.Assign) and step.function_line < node.lineno < step.loop_line
        and (step.function is not None or id(node) not in inside) and (loader := _loader(source, node)) is not None
    ]  # fmt: skip
    return max(found, key=lambda loader: loader.statement.lineno) if found else None


def candidates(source: SourceFile, loader: Loader, features: int = FEATURES, classes: int = CLASSES) -> list[Driver]:
    """The program with the loader's value replaced by synthetic arrays, once per layout of the targets:
    `features` inputs a sample, targets of `classes` classes (a corpus has one layout)."""
    drivers = []
    for columns, targets in LAYOUTS if "Y" in _flat(loader.kinds) else LAYOUTS[:1]:
        tree = copy.deepcopy(source.tree)
        assert tree is not None
        statement = next(
            n for n in ast.walk(tree)
            if isinstance(n, ast.Assign) and (n.lineno, n.col_offset) == (loader.statement.lineno, loader.statement.col_offset)
        )  # fmt: skip
        made = f"__import__('backprop_doctor.replay.standin', fromlist=['arrays']).arrays({loader.kinds!r}, {columns}, {targets!r}, {features}, {classes})"
        statement.value = ast.parse(made, mode="eval").body
        for node in ast.walk(statement.value):  # at the user's line: a step run inside it is the user's statement
            node.lineno = node.end_lineno = statement.lineno  # type: ignore[attr-defined]
            node.col_offset = node.end_col_offset = statement.col_offset  # type: ignore[attr-defined]
        shown = _shown(loader.kinds, columns, targets, features, classes)
        drivers.append(Driver(f"{loader.call} returning {shown}", dataclasses.replace(source, tree=tree)))
    return drivers


def widths(stops: list[str], features: int = FEATURES, classes: int = CLASSES, inputs: bool = True) -> list[tuple[int, int]]:
    """Other sizes to make the arrays at, read from the errors the runs on synthetic data stopped with
    (`stops`): a program whose weights have a size of their own (`np.random.randn(784, 16)`, ten
    outputs) stops on a shape that names it ("shapes (12,) (784,)"). Each size named is tried as the
    number of features (unless `inputs` is False: they are settled), then as the number of classes,
    at most three in all."""
    sizes: list[int] = []
    for stop in stops:
        if not _SHAPES.search(stop):
            continue
        for number in re.findall(r"\d+", stop):
            size = int(number)
            if 1 < size <= _WIDEST and size not in (features, classes, SAMPLES) and size not in sizes:
                sizes.append(size)
    as_inputs = [(size, classes) for size in sizes] if inputs else []
    return (as_inputs + [(features, size) for size in sizes if size <= _MOST_CLASSES])[:3]


def arrays(kinds: Any, columns: bool, targets: str, features: int = FEATURES, classes: int = CLASSES) -> Any:
    """What the rewritten assignment unpacks: a copy of one synthetic batch's inputs for each "X", of its targets for each "Y"."""
    import numpy as np

    x, y = batch(columns, targets, np.random.default_rng(0), SAMPLES, features, classes)
    rng = np.random.default_rng(0)
    sentences = [[int(i) for i in rng.integers(0, WORDS, size=n)] for n in rng.integers(3, 13, size=SENTENCES)]
    made = {"X": x, "Y": y, "S": sentences, "V": Vocabulary({f"w{i}": i for i in range(WORDS)})}

    def filled(kind: Any) -> Any:
        return tuple(filled(k) for k in kind) if isinstance(kind, tuple) else copy.deepcopy(made[kind])

    return filled(kinds)


class Vocabulary(dict):
    """A synthetic vocabulary of WORDS words that knows every word: the program asks for its own
    (`word2idx['START']`), which gets an index of the same range, the vocabulary's size unchanged."""

    def __missing__(self, word: Any) -> int:
        return sum(map(ord, str(word))) % len(self)


def _shown(kinds: Any, columns: bool, targets: str, features: int, classes: int) -> str:
    """The arrays in words: "X (1000, 12) and integer labels (1000,)"."""
    x, y = described(columns, targets, SAMPLES, features, classes)
    words = {"X": x, "Y": y, "S": f"{SENTENCES} sentences of 3 to 12 word indices", "V": f"a vocabulary of {WORDS} words"}
    return " and ".join(dict.fromkeys(words[k] for k in _flat(kinds)))
