"""`pytest -m "not lab"` leaves out every test that reaches the lab, so it runs without
root and never starts or stops one; the marker comes from conftest, not from each test."""

from __future__ import annotations

import functools
import subprocess
import sys

from gourmetops import PROJECT_ROOT
from tests.cli import copy_tracked

COLLECT = """
import sys, pytest
class Marks:
    def pytest_collection_finish(self, session):
        for item in session.items:
            uses = "first_up" if "first_up" in item.fixturenames else "-"
            print("lab" if item.get_closest_marker("lab") else "unit", uses, item.nodeid)
sys.exit(pytest.main(sys.argv[1:], plugins=[Marks()]))
"""


@functools.cache
def collected_with_fixture() -> list[tuple[str, str, str]]:
    """Every test id pytest collects, in run order, with "lab" or "unit": the marker that
    `-m "not lab"` selects on. One collection for both tests below. `--assert=plain`:
    collecting runs no test, so rewriting every module's asserts (about 40% of a
    collection's CPU, with no bytecode cache to reuse) changes nothing collected or marked."""
    proc = subprocess.run(
        [sys.executable, "-c", COLLECT, "--collect-only", "-q", "-p", "no:cacheprovider"]
        + ["--assert=plain"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout[-2000:]
    rows = [line.split(" ", 2) for line in proc.stdout.splitlines()]
    return [(row[0], row[1], row[2]) for row in rows if row[0] in ("lab", "unit")]


def collected() -> list[tuple[str, str]]:
    return [(kind, nodeid) for kind, _, nodeid in collected_with_fixture()]


def test_not_lab_leaves_out_every_test_that_uses_the_lab_and_they_run_last():
    """The marker comes from conftest, for every test that reaches the lab through a
    fixture; the whole run is the tests without the lab, then the lab's (the rootfs
    builds meanwhile); the lab tier's second shard is made of real lab modules (one
    collection for all of it: each costs seconds)."""
    kinds = [kind for kind, _ in collected()]
    ids = [nodeid for kind, nodeid in collected() if kind == "unit"]
    modules = {i.split("::")[0] for i in ids}
    # Modules whose every test uses the lab fixture, directly or through another fixture.
    lab_modules = {i.split("::")[0] for kind, i in collected() if kind == "lab"}
    assert {"tests/test_prepare.py", "tests/test_registry.py", "tests/test_up.py"} <= (
        lab_modules - modules
    )
    # Mixed modules keep their pure tests and lose the ones that use the lab.
    assert "tests/test_bad_input.py::test_missing_kubespray_ref_is_named" in ids
    assert not [i for i in ids if "test_kubespray_stage_refuses_bad_settings" in i]
    assert "tests/test_kubeconfig.py::test_readiness_from_a_node_list" in ids
    assert "tests/test_kubeconfig.py::test_names_the_node_that_is_not_ready" not in ids
    assert kinds == sorted(kinds, key=lambda kind: kind == "lab") and "lab" in kinds
    _the_second_lab_shard_has_real_modules_and_never_the_first_up()  # the same collection


def test_modules_sharing_the_checkouts_state_exist_and_run_on_one_worker(tmp_path):
    """The list in conftest names real modules (a rename would silently let two of them
    race under `-n 2`), and xdist's scheduler gives their tests to one worker. Run in a
    copy of the project: those tests take its run locks, not this checkout's. Quick ones
    (about 2 s in all) from two of the modules: the scheduling, not the tests, is shown
    (hence `--assert=plain`: their asserts still run, only unrewritten, which saves each
    worker rewriting conftest's plugins and the two modules)."""
    from tests.conftest import CHECKOUT_STATE_MODULES

    stems = {p.stem for p in (PROJECT_ROOT / "tests").glob("test_*.py")}
    assert CHECKOUT_STATE_MODULES <= stems, CHECKOUT_STATE_MODULES - stems
    copy = copy_tracked(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-n", "2", "-v"]
        + ["--assert=plain"]
        + [
            "tests/test_ssh_key.py::test_missing_key_file_is_named",
            "tests/test_ssh_key.py::test_key_that_is_a_directory_is_refused",
            "tests/test_ssh_key.py::test_ssh_key_in_the_file_is_named_by_file_and_key",
            "tests/test_reset.py::test_reset_is_refused_without_the_targets_name",
        ],
        cwd=copy,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-2000:]
    workers = {line.split("]")[0] for line in proc.stdout.splitlines() if " PASSED " in line}
    assert len(workers) == 1 and "scheduling tests via CheckoutStateScheduling" in proc.stdout
    assert f"rootdir: {copy}" in proc.stdout


def _the_second_lab_shard_has_real_modules_and_never_the_first_up() -> None:
    """tests/lab_shards.py's second shard: every module named exists and has lab tests;
    none needs the session's first `fab up`, which the first shard makes (once)."""
    from tests.conftest import SECOND_SHARD_MODULES

    def stem(nodeid: str) -> str:
        return nodeid.split("::")[0].removeprefix("tests/").removesuffix(".py")

    lab_modules = {stem(i) for kind, _, i in collected_with_fixture() if kind == "lab"}
    assert SECOND_SHARD_MODULES <= lab_modules, SECOND_SHARD_MODULES - lab_modules
    needing_it = {stem(i) for kind, uses, i in collected_with_fixture() if uses == "first_up"}
    assert needing_it and not needing_it & SECOND_SHARD_MODULES, needing_it
