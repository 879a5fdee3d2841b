"""notebooks/deploy_on_kubernetes.ipynb: committed clean (valid, no outputs, no execution
counts, nothing secret-looking), its sections in the tutorial's order, the stages the lab
cannot run saying so. Its headless run against the lab (nbclient and a real ipykernel,
TARGET = "lab"), as CI runs it, is in tests/test_up.py, on the nodes `fab up` converged."""

from __future__ import annotations

import io
import re
from contextlib import redirect_stdout
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from nbformat import NotebookNode

from gourmetops import PROJECT_ROOT, notebook
from gourmetops.context import RunContext
from gourmetops.errors import InputError
from gourmetops.stages import run_all

CELL_TIMEOUT = 1800  # the lab's cluster stage runs kubespray's facts playbook
NOTEBOOK = PROJECT_ROOT / "notebooks" / "deploy_on_kubernetes.ipynb"
SECTIONS = [
    "Preliminaries",
    "Prepare kubespray",
    "Install Kubernetes",
    "Prepare a container registry",
    "Deploy your service on Kubernetes",
    "Deploy your service on Kubernetes with more replicas",
    "Deploy your service on Kubernetes with automatic scaling",
    "The stress tests",
    "Stop the deployment",
    "Report",
]
NEEDS_KUBERNETES = ("kubeconfig", "rollout", "scale", "autoscale", "experiment", "teardown")
SKIPPED = "skipped, lab's cluster stage installs no Kubernetes"
SECRET_LOOKING = [
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----",
    r"(?i)(password|passwd|token|secret)\s*[=:]\s*\S",
    r"\b\d{1,3}(\.\d{1,3}){3}\b",  # an address: the user's lease lives outside the notebook
    r"\bghp_[A-Za-z0-9]{20,}",
    r"\bAKIA[0-9A-Z]{16}\b",
]


def _read() -> nbformat.NotebookNode:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    return nb


def test_committed_notebook_is_valid_and_stripped():
    nb = _read()
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source
    text = NOTEBOOK.read_text()
    for pattern in SECRET_LOOKING:
        assert not re.search(pattern, text), pattern


def test_sections_follow_the_tutorial_each_with_a_cell_that_runs_it():
    nb = _read()
    headings = [
        line[3:]
        for cell in nb.cells
        if cell.cell_type == "markdown"
        for line in cell.source.splitlines()
        if line.startswith("## ")
    ]
    assert headings == SECTIONS
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert [c.source for c in params] == [
        'TARGET = None  # "chameleon" or "lab"; None: $GOURMETOPS_TARGET, else "chameleon"'
    ]
    ran = re.findall(r"notebook\.run\(TARGET, (.*)\)", "\n".join(c.source for c in nb.cells))
    names = [n.strip(' "') for call in ran for n in call.split(",")]
    assert names == list(notebook.SECTIONS)  # every stage, each once, in order


def test_the_lab_says_which_sections_it_skips_and_why_without_connecting():
    """RunContext builds the lab's target and reads its settings only; a stage that does
    not apply is never called, so nothing connects."""
    out = io.StringIO()
    with redirect_stdout(out):
        timings = run_all(
            RunContext("lab"), False, tuple(notebook.SECTIONS[n] for n in NEEDS_KUBERNETES)
        )
    assert [t.outcome for t in timings] == ["skipped"] * len(NEEDS_KUBERNETES)
    for name in NEEDS_KUBERNETES:
        assert f": {name}: {SKIPPED}" in out.getvalue()


def test_unknown_stage_names_are_refused():
    with pytest.raises(InputError, match="choose from prepare, kubespray"):
        notebook.run("lab", "prepare", "deploy")


def test_report_shows_the_newest_experiment_or_says_why_there_is_none(
    tmp_path, capsys, monkeypatch
):
    monkeypatch.setattr(notebook, "STATE_DIR", tmp_path)
    assert notebook.report("lab") is None
    assert "no experiment results for lab yet" in capsys.readouterr().out
    for stamp in ("experiment-20250101-100000", "experiment-20250102-090000"):
        (tmp_path / "lab" / "results" / stamp).mkdir(parents=True)
        (tmp_path / "lab" / "results" / stamp / "report.md").write_text(f"| {stamp} |\n")
    newest = tmp_path / "lab" / "results" / "experiment-20250102-090000"
    assert notebook.report("lab") == newest
    assert "experiment-20250102-090000" in capsys.readouterr().out


def execute(nb_path: Path, cwd: Path, out: Path, target: str | None = None) -> NotebookNode:
    """The notebook run headless with nbclient from `cwd`, as CI does (a kernel process of its
    own; no pyinfra_cli in pytest's, conftest checks); TARGET, when given, replaces the cell
    tagged `parameters` (papermill's convention). The executed notebook, error cells
    included, is kept in `out`, outside the project; a cell that raised fails the test."""
    nb = nbformat.read(nb_path, as_version=4)
    if target is not None:
        for cell in nb.cells:
            if "parameters" in cell.metadata.get("tags", []):
                cell.source = f"TARGET = {target!r}"
    runner = NotebookClient(nb, timeout=CELL_TIMEOUT, resources={"metadata": {"path": str(cwd)}})
    try:
        runner.execute()
    except CellExecutionError as exc:
        pytest.fail(f"a notebook cell raised (executed notebook: {out}):\n{exc}")
    finally:
        nbformat.write(nb, out)
    return nb


def test_report_is_shown_inline_in_a_kernel(tmp_path, reported):
    """The report cell in a real ipykernel, on the sample experiment's results as `fab
    report` left them (conftest): the table as Markdown and each plot as a PNG output (no
    lab, no target reached)."""
    results = reported
    cell = nbformat.v4.new_code_cell(
        f"from pathlib import Path\nfrom gourmetops import notebook\n"
        f"notebook.report('lab', Path({str(results)!r}))"
    )
    nb = nbformat.v4.new_notebook(cells=[cell], metadata=_read().metadata)
    nbformat.write(nb, tmp_path / "report.ipynb")
    (cell,) = execute(tmp_path / "report.ipynb", tmp_path, tmp_path / "out.ipynb").cells
    kinds = [set(o.get("data", {})) for o in cell.outputs if o.output_type == "display_data"]
    assert "text/markdown" in kinds[0] and "| scenario" in cell.outputs[0].data["text/markdown"]
    assert len([k for k in kinds if "image/png" in k]) == len(list(results.glob("*.png"))) > 0
