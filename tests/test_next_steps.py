"""How `fab up` ends when every stage went through: what runs, what to open, what to run
next (gourmetops.next_steps, printed by stages.run_on after the stage table). Built from
the real targets and settings; nothing connects."""

from __future__ import annotations

from gourmetops import STATE_DIR
from gourmetops.context import RunContext
from gourmetops.next_steps import next_steps


def test_chameleon_ends_with_the_app_url_and_the_experiment(monkeypatch):
    monkeypatch.setenv("GOURMETOPS_FLOATING_IP", "127.0.0.10")
    monkeypatch.setenv("GOURMETOPS_NODE1_PUBLIC_ADDRESS", "127.0.0.8")
    monkeypatch.setenv("GOURMETOPS_CHAMELEON_CONFIG", "/nonexistent/chameleon.local.yaml")
    lines = next_steps(RunContext("chameleon")).splitlines()
    assert lines[0] == "up on chameleon: done."
    assert lines[1] == (
        "  running: Kubernetes on node1, node2, node3; the registry on node1:5000 with "
        "gourmetgram-app; GourmetGram in namespace kube-gourmetgram behind its Service "
        "(externalIP 127.0.0.8)"
    )
    assert lines[2] == "  open:    http://127.0.0.10/  (node1's floating IP, in your own browser)"
    assert lines[3].startswith("  next:    fab experiment --target chameleon  (the tutorial's")
    assert f"{STATE_DIR / 'chameleon' / 'results'}/experiment-<time>/" in lines[3]
    assert lines[4].startswith("           fab status --target chameleon  (pods, HPA, CPU;")


def test_the_lab_ends_with_the_registry_and_says_the_experiment_needs_kubernetes():
    lines = next_steps(RunContext("lab")).splitlines()
    assert lines == [
        "up on lab: done.",
        "  running: 3 nodes with Docker; the registry on node1:5000 "
        "(http://10.254.1.11:5000/v2/_catalog, from the nodes) with gourmetgram-app; no "
        "Kubernetes (lab's cluster stage installs none)",
        "  see:     fab catalog --target lab  (the image's tags in the registry)",
        "  next:    fab check --target lab --when post  (every node pulls the image)",
        "           the load experiment needs Kubernetes: fab experiment --target chameleon, "
        "then fab report .state/chameleon/results/experiment-<time>",
    ]
