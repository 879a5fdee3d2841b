"""`fab upgrade`'s rules, as kubespray states them: one minor version at a time, no
downgrade, and only a kube_version the checked-out kubespray has checksums for (read from
the real kubespray release-2.26, the lab's own source)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gourmetops.kubespray.checkout import controller_checkout
from gourmetops.kubespray.upgrade import RULE, known_versions, step_refused
from tests.cli import fab
from tests.kubespray_source import KUBESPRAY


@pytest.fixture(scope="module")
def known() -> list[str]:
    return known_versions(controller_checkout(KUBESPRAY, "release-2.26"))


def test_release_2_26_knows_1_28_to_1_30(known):
    assert known[0] == "v1.28.0" and known[-1] == "v1.30.6"
    assert "v1.30.4" in known and "v1.29.10" in known and len(known) == len(set(known))


@pytest.mark.parametrize(
    ("running", "wanted", "said"),
    [
        ("v1.29.5", "v1.30.4", None),
        ("v1.30.4", "v1.30.6", None),  # patch releases are fine
        ("v1.28.2", "v1.30.4", f"kube_version v1.30.4 skips a minor version from the cluster's "
                               f"v1.28.2: {RULE}"),
        ("v1.30.4", "v1.29.5", "kube_version v1.29.5 is older than the cluster's v1.30.4: "
                               "kubespray does not downgrade"),
        ("v1.30.4", "v1.30.4", "the cluster runs v1.30.4 already: nothing to upgrade"),
        ("v1.30.4", "v1.31.1", "kube_version v1.31.1 is not one the checked-out kubespray knows "
                               "(it has checksums for v1.28.0 to v1.30.6); pick one of those, or "
                               "move kubespray_ref"),
    ],
    ids=["one-minor", "patch", "skips-a-minor", "downgrade", "same", "unknown"],
)  # fmt: skip
def test_each_step_is_allowed_or_refused_with_the_rule(known, running, wanted, said):
    assert step_refused(running, wanted, known) == said


def test_the_lab_has_nothing_to_upgrade():
    ran = fab("upgrade", "--target", "lab", "--dry")
    assert ran.code == 1
    assert ran.last == "error: lab's cluster stage installs no Kubernetes: nothing to upgrade"


def test_up_stops_for_an_upgrade_when_the_nodes_run_another_version():
    """What `fab up` reads from `kubectl get nodes -o json` (a recorded v1.30.4 node list):
    kube_version v1.30.4 lets it go on; v1.30.6 stops it, pointing to `fab upgrade`."""
    from gourmetops.errors import StageFailed
    from gourmetops.kubespray.readiness import node_states
    from gourmetops.kubespray.stage import upgrade_needed
    from gourmetops.kubespray.upgrade import oldest_version

    nodes = Path(__file__).parent / "fixtures" / "kubernetes" / "nodes-node3-notready.json"
    states = node_states(nodes.read_text())
    assert oldest_version(states) == "v1.30.4" and oldest_version({}) is None
    upgrade_needed(states, "v1.30.4", "chameleon")  # same version: no error
    with pytest.raises(StageFailed) as stopped:
        upgrade_needed(states, "v1.30.6", "chameleon")
    assert str(stopped.value) == (
        "the cluster runs v1.30.4 and kube_version asks for v1.30.6: cluster.yml does not "
        "upgrade a running cluster; run `fab upgrade --target chameleon` (kubespray's "
        "upgrade-cluster.yml, one minor version at a time)"
    )
