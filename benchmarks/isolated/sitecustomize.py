"""Put first on PYTHONPATH by benchmarks/reference_tree.env_for: Python imports it at start-up,
after the venv's .pth files ran. It drops the editable install's finder, which maps every
`gourmetops.*` name to this checkout: a tree run from PYTHONPATH then imports its own
modules only, and a module it lacks fails to import instead of coming from this checkout."""

import sys

sys.meta_path[:] = [
    finder
    for finder in sys.meta_path
    if not str(getattr(finder, "__module__", "")).startswith("__editable__")
]
