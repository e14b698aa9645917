"""IPython commands left in a script exported from a notebook were read as comments.

What it finds:
    Lines that only IPython understands, left in a `.py` saved from a Jupyter
    notebook: magics (`%matplotlib inline`, `%%time`), shell escapes
    (`!pip install numpy`), and their spelling in an nbconvert export,
    `get_ipython().run_line_magic('matplotlib', 'inline')`. backprop-doctor
    reads each one as a comment, every line keeping its number, and says which.
    A magic-looking line that Python accepts (inside a string) is left alone.

Why it matters:
    Python stops at the first magic with "invalid syntax", and at the first
    `get_ipython()` with a NameError, before anything is defined or trained.
    The file on disk still has them: `python yourfile.py` keeps failing.

Example:
    import numpy as np
    %matplotlib inline

Fix:
    import numpy as np
    # %matplotlib inline          (or delete the line)
"""

NAME = "notebook-magic"
CODE = "BPD016"
SEVERITY = "info"
STAGE = "load"
