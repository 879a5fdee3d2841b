"""Runs gourmetops.experiment with real siege on the lab's node1 and the kubernetes client
against tests/kube_standin.py (the API STAND-IN), in a process of its own: the pytest process
has pyinfra_cli imported (tests/test_inventories.py), whose gevent monkey-patching stalls
Fabric's threads. Used by tests/test_experiment.py.

    python tests/experiment_standin_run.py OUT_DIR
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kubernetes import client  # noqa: E402

from gourmetops.app.kube import Kube  # noqa: E402
from gourmetops.app.manifests import AppParams, render  # noqa: E402
from gourmetops.context import connect  # noqa: E402
from gourmetops.load.experiment import Plan, run  # noqa: E402
from gourmetops.targets import lab_target  # noqa: E402
from tests.kube_standin import serve  # noqa: E402


def main(out_dir: Path) -> None:
    server, _cluster = serve()
    config = client.Configuration()
    config.host = f"http://127.0.0.1:{server.server_address[1]}"
    kube = Kube.from_api_client(client.ApiClient(config))
    plan = Plan(
        url="http://10.254.1.11:8000/test",
        concurrency=2,
        duration=2,
        pause=0.5,
        sample_every=0.5,
        rollout_timeout=20,
        scale_down_timeout=5,
    )
    try:
        report = run(
            kube,
            connect(lab_target(), "node1"),
            lambda **kw: render(AppParams(external_ips=("10.254.0.2",), **kw)),
            plan,
            out_dir,
        )
    finally:
        server.shutdown()
    print(f"report: {report}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
