"""`pytest -m "not lab"` leaves out every test that reaches the lab, so it runs without
root and never starts or stops one; the marker comes from conftest, not from each test."""

from __future__ import annotations

import functools
import subprocess
import sys

from gourmetops import PROJECT_ROOT


@functools.cache
def collected(*args: str) -> list[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout[-2000:]
    return [line for line in proc.stdout.splitlines() if "::" in line]


def test_not_lab_leaves_out_every_test_that_uses_the_lab():
    ids = collected("-m", "not lab")
    modules = {i.split("::")[0] for i in ids}
    # Modules whose every test uses the lab fixture, directly or through another fixture.
    assert not {"tests/test_prepare.py", "tests/test_registry.py", "tests/test_up.py"} & modules
    # Mixed modules keep their pure tests and lose the ones that use the lab.
    assert "tests/test_bad_input.py::test_missing_kubespray_ref_is_named" in ids
    assert not [i for i in ids if "test_kubespray_stage_refuses_bad_settings" in i]
    assert "tests/test_kubeconfig.py::test_readiness_from_a_node_list" in ids
    assert "tests/test_kubeconfig.py::test_names_the_node_that_is_not_ready" not in ids


def test_the_lab_tests_run_last():
    """The whole run is the tests without the lab, in their usual order, then the lab's
    (the rootfs builds meanwhile)."""
    everything, without_lab = collected(), collected("-m", "not lab")
    assert everything[: len(without_lab)] == without_lab
