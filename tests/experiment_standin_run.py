"""Runs gourmetops.experiment with real siege on the lab's node1 and the kubernetes client
against tests/kube_standin/ (the API STAND-IN), in a process of its own: the pytest process
has pyinfra_cli imported (tests/test_inventories.py), whose gevent monkey-patching stalls
Fabric's threads. Used by tests/test_experiment.py.

Time: the experiment waits on the stand-in's modelled clock (ModelClock): its rollout and
HPA waits, the pause and the scale-down watch sleep modelled seconds, so the 300 s
scale-down window passes at once and in the same order on any machine. Siege itself runs for
real (2 s of wall time, sampled meanwhile). Each load run is LOAD_SECONDS of modelled load:
the Deployment's pods carry CPU_PER_USER millicores per concurrent siege user and modelled
time moves on by LOAD_SECONDS before siege starts, so the samples taken during siege see
what the HPA made of that load (the stand-in app on node1 serves the real requests; the
stand-in API cannot see them).

    python tests/experiment_standin_run.py OUT_DIR
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kubernetes import client  # noqa: E402

from gourmetops.app.kube import Kube  # noqa: E402
from gourmetops.app.manifests import AppParams, render  # noqa: E402
from gourmetops.context import connect  # noqa: E402
from gourmetops.load import experiment  # noqa: E402
from gourmetops.load.experiment import Plan, describe, run  # noqa: E402
from gourmetops.targets import lab_target  # noqa: E402
from tests.kube_standin import ModelClock, serve  # noqa: E402

CPU_PER_USER = 300.0  # millicores the stand-in's pods carry per concurrent siege user
LOAD_SECONDS = 60.0  # modelled length of each load run: four HPA syncs under the load


def main(out_dir: Path) -> None:
    server, cluster = serve()
    real_load = experiment.run_load

    def modelled_load(conn, load, *args, **kwargs):
        cluster.load_m = load.concurrency * CPU_PER_USER
        cluster.advance(LOAD_SECONDS)
        try:
            return real_load(conn, load, *args, **kwargs)
        finally:
            cluster.load_m = 0.0

    experiment.run_load = modelled_load
    config = client.Configuration()
    config.host = f"http://127.0.0.1:{server.server_address[1]}"
    kube = Kube.from_api_client(client.ApiClient(config), ModelClock(cluster))
    plan = Plan(
        url="http://10.254.1.11:8000/test",
        concurrency=2,
        duration=2,  # wall seconds of real siege
        pause=30,  # the rest in modelled seconds, as a real run's
        sample_every=0.5,  # (during siege: wall seconds)
        rollout_timeout=120,
        scale_down_timeout=360,
    )

    def objects_for(**kw):
        return render(AppParams(external_ips=("10.254.0.2",), **kw))

    # What `fab experiment --dry` would print for this plan, to compare with what ran.
    print("dry run: " + json.dumps(describe(plan, objects_for, "node1")), flush=True)
    try:
        report = run(kube, connect(lab_target(), "node1"), objects_for, plan, out_dir)
    finally:
        server.shutdown()
    assert cluster.invalid == [], cluster.invalid  # every answer matched the v1.30 schema
    print(f"report: {report}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
