import os
import sys

# `python -m backprop_doctor` puts the current folder first on sys.path. Run in a user's folder
# that holds a `random.py` or `copy.py`, the standard library would import the user's file in its
# place (and run it). The tool is already found; the user's folder is only searched for the
# user's own imports, inside the sandboxed child.
_here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if sys.path and os.path.abspath(sys.path[0] or os.curdir) == os.path.abspath(os.curdir) != _here:
    del sys.path[0]

from backprop_doctor.cli import main  # noqa: E402

sys.exit(main())
