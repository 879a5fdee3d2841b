"""Executes a notebook headless with nbclient, as CI does, in a process of its own: the
pytest process has pyinfra_cli imported (tests/test_inventories.py), whose gevent
monkey-patching breaks nbclient's kernel channels. Writes the executed notebook (error
cells included) to OUT and exits 1 if a cell raised.

    python tests/notebook_run.py IN.ipynb OUT.ipynb CWD [TARGET]

TARGET, when given, replaces the cell tagged `parameters` (papermill's convention).
"""

from __future__ import annotations

import sys

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

CELL_TIMEOUT = 1800  # the lab's cluster stage runs kubespray's facts playbook


def main(src: str, out: str, cwd: str, target: str | None = None) -> int:
    nb = nbformat.read(src, as_version=4)
    if target is not None:
        for cell in nb.cells:
            if "parameters" in cell.metadata.get("tags", []):
                cell.source = f"TARGET = {target!r}"
    client = NotebookClient(nb, timeout=CELL_TIMEOUT, resources={"metadata": {"path": cwd}})
    try:
        client.execute()
        return 0
    except CellExecutionError as exc:
        print(exc, file=sys.stderr)
        return 1
    finally:
        nbformat.write(nb, out)


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
