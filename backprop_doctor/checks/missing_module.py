"""A module the file imports is not installed and not next to the file; a stand-in was used.

What it finds:
    An import of the user's own code that no finder can satisfy, such as the
    book's `from dataset.mnist import load_mnist` when the `dataset/` folder is
    not beside the file or its parent folder (a package in a folder up to four
    levels above the file, the project's `common/`, is found and used before
    that). backprop-doctor puts a stand-in module in its place so the rest of
    the file still loads, and names the module and the line of the import. Python 2 module names (`cPickle`,
    `Queue`, `urllib2`) get their Python 3 name. Imports inside
    `try: ... except ImportError:` are left to fail as the code expects.

Why it matters:
    Layers and networks rarely need the data loader, so they can still be
    checked. But any code that needs the module was skipped, and anything
    taken from it is a stand-in: a layer that calls into it cannot be checked
    (a `build-failed` note names the module, not an error of your code).

Example:
    import sys, os
    sys.path.append(os.pardir)
    from dataset.mnist import load_mnist      # dataset/ is not in the parent folder

Fix:
    Put the missing folder (here `dataset/`) next to the file or in its parent
    folder, or install the package: pip install <package>
"""

NAME = "missing-module"
CODE = "BPD003"
SEVERITY = "info"
STAGE = "load"
