"""Fixtures for tests that run against the local three-node lab (real sshd, real systemd).

The lab needs root; tests that use it fail (not skip) without it, so a run that could
not exercise the real nodes never looks green.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from gourmetops import lab as labmod
from gourmetops.lab import rootfs, snapshots
from gourmetops.targets import LAB_DIR, lab_target
from tests.labtools import Lab, docker_ready

# A developer's own defaults must not steer the suite: the target and the key come from
# each test (GOURMETOPS_TARGET=chameleon in the shell would send `fab check` to Chameleon).
for _variable in ("GOURMETOPS_TARGET", "GOURMETOPS_SSH_KEY"):
    os.environ.pop(_variable, None)

# Every test that reaches the lab does so through one of these fixtures (directly or through
# another fixture): such tests are marked `lab`, so `pytest -m "not lab"` needs no root and
# never starts or stops a lab.
# node1's stand-in home (`checkout`, `home`); the API stand-in (`standin_kubeconfig`)
pytest_plugins = ["tests.node1_home", "tests.kube_standin.fixtures"]

LAB_FIXTURES = frozenset({"lab", "fresh_lab", "docker_lab", "standin_app"})


# Modules whose tests take the checkout's own run locks, write its .state/<target>/ or
# compare a snapshot of it: under `pytest -n 2` (the unit tier in scripts/setup.sh)
# they share one worker, so two of them never run at once. Found by
# recording which tests change .state/ in a serial run.
CHECKOUT_STATE_MODULES = frozenset(
    {
        "test_bad_input",  # lab run lock and logs
        "test_kube_stage",  # lab run lock and logs
        "test_reset",  # chameleon run lock and logs
        "test_runlock",  # holds the chameleon run lock and expects a second run refused
        "test_ssh_key",  # chameleon ssh_config
        "test_tunnel_hold",  # chameleon ssh_config
        "test_hostile_input",  # snapshots .state/lab and .state/chameleon around runs
    }
)


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """Under `-n N` (xdist's default "load" distribution), the CHECKOUT_STATE_MODULES' tests
    are one unit of work for one worker, every other test its own. (xdist's loadgroup does
    not group here: it renames items, which pytest 9 ignores.)"""
    if config.getvalue("dist") != "load":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class CheckoutStateScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = Path(nodeid.split("::", 1)[0]).stem
            return "checkout-state" if module in CHECKOUT_STATE_MODULES else nodeid

    return CheckoutStateScheduling(config, log)


# The lab tier runs as two shards side by side, each on a lab of its own (tests/lab_shards.py;
# one lab leaves about 40% of two cores idle, waiting on boots, SSH and playbooks). The
# second shard: the modules that start from pristine or Docker-ready nodes. The first keeps
# every module that needs the first `fab up` (made once) and every one that opens the API
# tunnel on its default local port, which the two labs would otherwise share.
SHARD_ENV = "GOURMETOPS_LAB_SHARD"
SECOND_SHARD_MODULES = frozenset(
    {
        "test_check_lab",
        "test_docker_path",
        "test_faults",
        "test_image_git",
        "test_lab",
        "test_prepare",
        "test_prepare_dry",
        "test_prepare_node_down",
        "test_prepare_unusual_nodes",
        "test_registry",
        "test_registry_auth",
        "test_security",
        "test_ssh_key_lab",
        "test_unprivileged_controller",
        "test_up_dry",
    }
)


def in_shard(item: pytest.Item, shard: str) -> bool:
    """Whether `item` runs in lab-tier shard "1" or "2" (tests/lab_shards.py)."""
    return (Path(str(item.path)).stem in SECOND_SHARD_MODULES) == (shard == "2")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the lab tests, and run them after the others (order kept within each part):
    the lab's rootfs builds in the background meanwhile (`rootfs_building`). Under
    GOURMETOPS_LAB_SHARD, only that shard's tests are kept."""
    for item in items:
        if LAB_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.lab)
    items.sort(key=lambda item: item.get_closest_marker("lab") is not None)
    shard = os.environ.get(SHARD_ENV)
    if shard is None:
        return
    if shard not in ("1", "2"):
        raise pytest.UsageError(f"{SHARD_ENV}={shard!r}: use 1 or 2")
    config.hook.pytest_deselected(items=[i for i in items if not in_shard(i, shard)])
    items[:] = [i for i in items if in_shard(i, shard)]


@pytest.fixture(scope="session", autouse=True)
def no_pyinfra_cli_here() -> Iterator[None]:
    """pyinfra's CLI is run in processes of its own: importing pyinfra_cli patches the whole
    process with gevent, which stalls Fabric's and the API client's threads in every test
    after it. An import of it in pytest's process fails the session here."""
    yield
    assert "pyinfra_cli" not in sys.modules, "pyinfra_cli was imported in pytest's process"


@pytest.fixture(scope="session", autouse=True)
def rootfs_building(request: pytest.FixtureRequest) -> Iterator[Future | None]:
    """The lab's cached rootfs and node1's Docker layer (debootstrap, about two minutes in a
    fresh clone) made in a thread from the session's start, while the tests that need no
    lab run; the `lab` fixture waits for it."""
    wanted = os.geteuid() == 0 and any(
        item.get_closest_marker("lab") for item in request.session.items
    )
    if not wanted:
        yield None
        return
    with ThreadPoolExecutor(max_workers=1) as pool:
        yield pool.submit(rootfs.ensure_layers, LAB_DIR)


@pytest.fixture(scope="session")
def lab(rootfs_building: Future | None) -> Iterator[Lab]:
    if os.geteuid() != 0:
        pytest.fail("the lab tests need root (network namespaces, overlayfs, systemd-nspawn)")
    if rootfs_building:
        rootfs_building.result()
    target = lab_target()
    # Pristine nodes, so that no node sits on a snapshot (a read-only layer under it) while
    # the snapshots are dropped: they are made anew each session, from the code under test.
    labmod.reset(target)
    snapshots.drop_all()
    yield Lab(target)
    if not os.environ.get("GOURMETOPS_KEEP_LAB"):
        labmod.down(target)
        snapshots.drop_all()


@pytest.fixture(scope="module")
def fresh_lab(lab: Lab) -> Lab:
    """Pristine nodes for this module: fresh upper dirs and host keys."""
    labmod.reset(lab.target)
    return lab


@pytest.fixture(scope="module")
def docker_lab(lab: Lab) -> Lab:
    """Nodes as the cluster stage leaves them for the registry and image stages
    (tests.labtools.docker_ready), restored for each module: its changes are its own."""
    return docker_ready(lab)


CONVERGED = "converged"


@pytest.fixture(scope="session")
def first_up(lab: Lab) -> subprocess.CompletedProcess[str]:
    """`fab up` on pristine nodes, and while it runs a second changing run on the same
    target (refused, kept as `.refused`); the converged nodes are then saved as a lab
    snapshot, which `converged_lab` restores for each module that checks them."""
    labmod.reset(lab.target)
    first = lab.fab_started("up", "--target", "lab")
    lock = lab.target.state_dir / "run.lock"
    # until the lock names the run, or the run ended without it (no deadline: a busy
    # machine only makes this slower)
    while '"task": "up"' not in (lock.read_text() if lock.exists() else ""):
        assert first.poll() is None, "fab up ended without taking the lock"
        time.sleep(0.2)
    second = lab.fab("registry")
    out, _ = first.communicate(timeout=1800)
    result = subprocess.CompletedProcess(first.args, first.returncode, out)
    assert result.returncode == 0, result.stdout[-5000:]
    result.refused = second  # type: ignore[attr-defined]
    labmod.save(CONVERGED, lab.target)
    return result


@pytest.fixture(scope="module")
def converged_lab(lab: Lab, first_up) -> Lab:
    """The nodes as the first `fab up` left them (every stage the lab supports), restored
    for each module: its changes are its own."""
    labmod.reset(lab.target, CONVERGED)
    return lab


STANDIN_APP = Path(__file__).parent / "fixtures" / "app" / "app.py"
SAMPLE_RESULTS = Path(__file__).parent / "fixtures" / "results" / "experiment-sample"


@pytest.fixture(scope="session")
def sample_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample experiment's results with what `fab report` drew from them (report.md and
    the PNGs), drawn once per worker (2-5 s each); a test that changes it takes `reported`."""
    from tests.cli import fab

    results = tmp_path_factory.mktemp("sample-report") / "results"
    shutil.copytree(SAMPLE_RESULTS, results)
    ran = fab("report", str(results))
    assert ran.code == 0, ran.out
    return results


@pytest.fixture
def reported(sample_report: Path, tmp_path: Path) -> Path:
    """This test's own copy of `sample_report`."""
    return Path(shutil.copytree(sample_report, tmp_path / "run"))


@pytest.fixture(scope="module")
def standin_app(lab: Lab) -> Iterator[Lab]:
    """The GourmetGram stand-in (tests/fixtures/app) serving on node1's port 8000, stopped
    by the PID it was started with."""
    lab.put("node1", STANDIN_APP, "/tmp/gourmetgram-standin.py")
    lab.ssh(
        "node1",
        "PORT=8000 setsid nohup python3 /tmp/gourmetgram-standin.py </dev/null >/dev/null 2>&1 & "
        "echo $! > /tmp/gourmetgram-standin.pid",
    )
    lab.ssh(
        "node1", "for i in $(seq 50); do ss -ltn | grep -q :8000 && exit 0; sleep 0.1; done; exit 1"
    )
    yield lab
    lab.ssh("node1", "kill $(cat /tmp/gourmetgram-standin.pid)", check=False)


@pytest.fixture(scope="session", autouse=True)
def student_installing(request: pytest.FixtureRequest) -> Iterator[Future | None]:
    """The unprivileged user's install (tests/student.py: pip from PyPI, about 100 s, no lab
    needed) started with the session in a thread, beside the lab tests, when its module runs
    in this session; its module's fixture takes the result (and removes the user)."""
    wanted = os.geteuid() == 0 and any(
        item.path.name == "test_unprivileged_controller.py" for item in request.session.items
    )
    if not wanted:
        yield None
        return
    from tests import student

    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(student.install)
        try:
            yield future
        finally:
            future.cancel()
    student.remove()
