"""`fab experiment`'s default plan against the stand-in's time model, on its simulated clock:
what tests/test_experiment_model.py checks and docs/experiment-timeline.png shows.

    python -m tests.kube_standin.experiment OUT_DIR    # experiment.json, report.md, PNGs

Stood in: the cluster (this package), siege (siege.py: the load on the model's clock) and
node1 (NoNode: nothing runs there). Real: the experiment's steps and waits, the kubernetes
client, the results, the timing judgement and the report."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from kubernetes import client

from gourmetops.app.kube import Kube
from gourmetops.app.manifests import AppParams, render
from gourmetops.load import experiment
from gourmetops.load.experiment import Plan
from tests.kube_standin import ModelClock, serve
from tests.kube_standin.siege import modelled

NS, DEP = "kube-gourmetgram", "gourmetgram-kube-app"
URL = "http://10.254.1.11:8000/test"  # inside the lab range: never a routable address


class NoNode:
    """node1 stood in: siege is 'installed' (the modelled siege needs no node)."""

    original_host = "node1"

    def run(self, command: str, **kwargs: Any) -> Any:
        assert command == "command -v siege" and kwargs.get("in_stream") is False, command
        return type("Ran", (), {"ok": True})()


def objects_for(**kw: Any) -> dict[str, dict[str, Any]]:
    return render(AppParams(external_ips=("10.254.0.2",), **kw))


def run_default_plan(out_dir: Path, **cluster_changes: Any) -> tuple[dict[str, Any], list[str]]:
    """Plan(url) run on a fresh model (attributes of its Cluster set from `cluster_changes`,
    e.g. metrics="starting"); returns experiment.json and the lines it said."""
    server, cluster = serve()
    for name, value in cluster_changes.items():
        setattr(cluster, name, value)
    config = client.Configuration()
    config.host = f"http://127.0.0.1:{server.server_address[1]}"
    kube = Kube.from_api_client(client.ApiClient(config), ModelClock(cluster))
    said: list[str] = []
    try:
        experiment.run(
            kube,
            NoNode(),
            objects_for,
            Plan(url=URL),
            out_dir,
            echo=said.append,
            siege=modelled(cluster, NS, DEP),
        )
    finally:
        server.shutdown()
    assert cluster.invalid == [], cluster.invalid  # every answer matched the v1.30 schema
    return json.loads((out_dir / "experiment.json").read_text()), said


if __name__ == "__main__":
    _, lines = run_default_plan(Path(sys.argv[1]))
    print("\n".join(lines))
