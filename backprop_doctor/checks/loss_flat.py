"""The loss does not move under small steps of an array, though backward gives it a gradient.

What it finds:
    An array whose numerical gradient is exactly 0 at every element compared
    while your backward gives it a gradient, and whose loss does change when
    the array moves by its own size. Forward does compute with the array; the
    floating-point loss is flat around the point checked. The usual cause is
    saturation: scores so large (a deep ReLU network at `weight_init_std=1.0`
    reaches 1e5 and more) that a softmax gives probabilities of exactly 0 and
    1, and `log(y + 1e-7)` is the same number whatever the scores do; a sigmoid
    at exactly 0 or 1 does the same. A forward that ignores the array (it
    computes with a copy) changes its loss under no move at all, and stays
    a `gradient-mismatch`. A network whose loss is flat so is checked again
    with the classes it predicts as its targets, where a saturated softmax's
    loss has gradient 0: a parameter whose backward still gives one there is a
    `gradient-mismatch` (a weight decay added to a gradient whose loss has
    none); when all agree the warning becomes the saturated loss's info note.
    A loss layer run on such scores is checked again on them rescaled.

    In float32 the same zero comes from rounding: a first layer of small
    weights far from the loss moves a float32 loss by less than float32
    resolves. Such arrays are probed again with steps up to 1000 times
    larger, and otherwise named in a `float32-precision` note, not compared.

Why it matters:
    Such a gradient cannot be compared at this point, right or wrong: the
    warning says so instead of blaming the gradient. A network whose loss
    is flat does not learn either: its updates follow a gradient the loss
    does not show.

Example:
    W = 1.0 * np.random.randn(100, 100)   # five such layers: scores near 1e5

Fix:
    W = np.random.randn(100, 100) * np.sqrt(2.0 / 100)   # He initialisation
"""

NAME = "loss-flat"
CODE = "BPD116"
SEVERITY = "warning"
STAGE = "gradient"
