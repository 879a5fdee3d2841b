"""siege, standing in on the stand-in's modelled clock: the experiment's load runner
(gourmetops/load/loadtest.run's signature) for runs of the experiment's default plan against
the model, where 30 s load tests and the HPA's 300 s window take no wall time. Real siege
runs on the lab in tests/test_experiment.py; here only its load and its timing are modelled.

While it "runs", the Deployment's pods are offered `concurrency * CPU_PER_USER` millicores
(the cluster shares them among ready pods, capped at the CPU limit) and modelled time moves a
sample interval at a time, sampled as the real runner samples. Its summary is modelled too:
each transaction costs COST_M millicore-seconds of a ready pod's CPU (not a measurement)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gourmetops.load.loadtest import LoadRun
from gourmetops.load.siege import SiegeResult
from tests.kube_standin.cluster import Cluster

CPU_PER_USER = 150.0  # millicores a concurrent user's requests ask of the app (modelled)
COST_M = 60.0  # millicore-seconds per transaction (modelled)


def modelled(cluster: Cluster, namespace: str, deployment: str) -> Callable[..., LoadRun]:
    def run(
        conn: Any,
        load: LoadRun,
        sample: Callable[[], dict[str, Any]] | None = None,
        every: float = 5.0,
        **_: Any,
    ) -> LoadRun:
        cluster.load_m = load.concurrency * CPU_PER_USER
        served_m, t = 0.0, 0.0
        try:
            while t < load.duration:
                step = min(every, load.duration - t)
                served_m += step * _serving_m(cluster, namespace, deployment)
                cluster.advance(step)
                t += step
                if sample:
                    load.samples.append({"t": round(t, 1), **sample()})
        finally:
            cluster.load_m = 0.0
        load.result = _summary(load, served_m)
        return load

    return run


def _serving_m(cluster: Cluster, namespace: str, deployment: str) -> float:
    """CPU the ready pods spend on the traffic now."""
    pods = [p for p in cluster.pods.get(f"{namespace}/{deployment}", []) if cluster.serving(p)]
    per_pod = cluster.cpu_per_pod_m(namespace, deployment) - cluster.idle_m
    return max(0.0, per_pod) * len(pods)


def _summary(load: LoadRun, served_m: float) -> SiegeResult:
    transactions = int(served_m / COST_M)
    rate = transactions / load.duration
    return SiegeResult(
        transactions=transactions,
        availability=100.0 if transactions else 0.0,
        elapsed_time=float(load.duration),
        data_transferred=transactions * 0.001,
        response_time=round(load.concurrency / rate, 2) if rate else 0.0,
        transaction_rate=round(rate, 2),
        throughput=round(transactions * 0.001 / load.duration, 3),
        concurrency=float(load.concurrency),
        successful_transactions=transactions,
        failed_transactions=0,
        longest_transaction=0.0,
        shortest_transaction=0.0,
    )
