"""The file loaded, but it defines nothing backprop-doctor knows how to check.

What it finds:
    A file with no layer class (a class with `forward` and `backward`), no
    function pair (`affine_forward`/`affine_backward`, cs231n style), no loss
    layer and no network that can be built. Often the layers live in another
    file (`from common.layers import *`) and this file only trains, or the
    classes that would qualify failed to load (see `load-error`).

Why it matters:
    An empty report is not a clean bill of health: nothing was checked.

Example:
    from common.layers import *          # the layers live in common/layers.py
    network = MultiLayerNet(...)
    for i in range(10000): ...

Fix:
    Check the file that defines the layers: backprop-doctor common/layers.py,
    or tell it what to build: --build "TwoLayerNet(input_size=20, hidden_size=8, output_size=4)"
"""

NAME = "nothing-to-check"
CODE = "BPD007"
SEVERITY = "warning"
STAGE = "load"
