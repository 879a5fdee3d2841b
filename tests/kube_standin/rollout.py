"""The deployment controller's decisions for one Deployment, on its ReplicaSets' sizes:
kubernetes v1.30 pkg/controller/deployment (deployment_controller.go syncDeployment,
sync.go, rolling.go, recreate.go) with util/deployment_util.go. cluster.py runs a sync
(`Sync.run`), then the ReplicaSet controller (pods made or deleted to each ReplicaSet's
size), and again while a sync changes a size: the real controller resyncs on each
ReplicaSet update it causes, within milliseconds, so one modelled instant here.

What a sync does (syncDeployment; no pause or rollback here):
- a scaling event (an active ReplicaSet's desired-replicas annotation differs from
  spec.replicas: isScalingEvent) goes to sync.go `scale`: the only active ReplicaSet is
  sized to spec.replicas directly, or, mid-rollout, every active one proportionally
  (GetProportion, from its max-replicas annotation);
- otherwise RollingUpdate (rolling.go rolloutRolling): the new ReplicaSet (created if
  missing, getNewReplicaSet) is scaled up to at most replicas + maxSurge pods in all
  (reconcileNewReplicaSet, NewRSNewReplicas); if it was not, old ReplicaSets are scaled
  down keeping replicas - maxUnavailable available, unhealthy old pods first
  (reconcileOldReplicaSets, cleanupUnhealthyReplicas,
  scaleDownOldReplicaSetsForRollingUpdate); or Recreate (recreate.go): old ones to 0,
  the new one scaled up once no old pod is left.
Each size change is a ScalingReplicaSet event on the Deployment (sync.go scaleReplicaSet:
"Scaled up|down replica set NAME to N from M"; getNewReplicaSet on creation: "Scaled up
replica set NAME to N").

Read from the stored kubernetes/kubernetes sources (the `rolling.go` read was an older
version with the same arithmetic; the "from M" wording and ResolveFenceposts as v1.30 has
them). Not modelled: minReadySeconds (available = ready), pause, rollback annotations,
revisionHistoryLimit clean-up, the hash-collision count."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MAX_SYNCS = 20  # syncs in one controller round at most (a rollout step takes two)


@dataclass
class ReplicaSet:
    """What the deployment controller reads and writes of a ReplicaSet: spec.replicas and
    the deployment.kubernetes.io/{revision,desired-replicas,max-replicas} annotations."""

    name: str
    revision: int
    template: dict[str, Any]
    seq: int  # creation order (ReplicaSetsByCreationTimestamp)
    replicas: int = 0
    desired: int | None = None
    max_replicas: int | None = None


def _scaled(value: int | str, total: int, round_up: bool) -> int:
    """intstr.GetScaledValueFromIntOrPercent: a percentage of `total`, rounded up (surge)
    or down (unavailable)."""
    if isinstance(value, int):
        return value
    exact = int(value.rstrip("%")) * total / 100
    return math.ceil(exact) if round_up else math.floor(exact)


def _rolling(dep: dict[str, Any]) -> dict[str, Any] | None:
    strategy = dep["spec"].get("strategy") or {}
    if strategy.get("type", "RollingUpdate") != "RollingUpdate":
        return None
    return strategy.get("rollingUpdate") or {}


def fenceposts(dep: dict[str, Any]) -> tuple[int, int]:
    """deployment_util.go ResolveFenceposts: (maxSurge, maxUnavailable) for spec.replicas,
    surge rounded up, unavailable down; both 0 makes unavailable 1."""
    rolling, want = _rolling(dep), dep["spec"]["replicas"]
    if rolling is None:
        return 0, 0
    surge = _scaled(rolling.get("maxSurge", 0), want, True)
    unavailable = _scaled(rolling.get("maxUnavailable", 0), want, False)
    return surge, 1 if surge == 0 and unavailable == 0 else unavailable


def max_surge(dep: dict[str, Any]) -> int:
    """deployment_util.go MaxSurge: 0 unless RollingUpdate."""
    return fenceposts(dep)[0]


def max_unavailable(dep: dict[str, Any]) -> int:
    """deployment_util.go MaxUnavailable: 0 unless RollingUpdate with replicas, at most
    the replicas."""
    want = dep["spec"]["replicas"]
    return 0 if want == 0 else min(fenceposts(dep)[1], want)


@dataclass
class Sync:
    """One syncDeployment of `dep` over its ReplicaSets `sets` (name -> ReplicaSet, changed
    in place), `new` the name its pod template hashes to. `available(name)` is a
    ReplicaSet's status.availableReplicas, `pods_left(name)` its pods including terminating
    ones, `record(message)` writes a ScalingReplicaSet event."""

    sets: dict[str, ReplicaSet]
    dep: dict[str, Any]
    new: str
    available: Callable[[str], int]
    pods_left: Callable[[str], int]
    record: Callable[[str], None]

    @property
    def want(self) -> int:
        return int(self.dep["spec"]["replicas"])

    def olds(self) -> list[ReplicaSet]:
        return sorted((r for n, r in self.sets.items() if n != self.new), key=lambda r: r.seq)

    def run(self) -> bool:
        """True when a ReplicaSet's size changed (the controller will sync again)."""
        before = {n: r.replicas for n, r in self.sets.items()}
        new = self._new_replica_set(create=False)
        active = [r for r in self.sets.values() if r.replicas > 0]
        if any(r.desired is not None and r.desired != self.want for r in active):
            self._scale(new)  # sync.go sync: a scaling event
        elif _rolling(self.dep) is None:
            self._recreate()
        else:
            self._roll()
        return before != {n: r.replicas for n, r in self.sets.items()}

    # --- sync.go ------------------------------------------------------------------------
    def _new_replica_set(self, create: bool) -> ReplicaSet | None:
        """getNewReplicaSet: the ReplicaSet of the current template, its revision made one
        above the old ones' highest (a rollback to an old template too); created when
        asked, sized by NewRSNewReplicas, with the replicas annotations."""
        top = max((r.revision for r in self.olds()), default=0)
        rs = self.sets.get(self.new)
        if rs is not None:
            if rs.revision <= top:
                rs.revision = top + 1
            return rs
        if not create:
            return None
        template = self.dep["spec"]["template"]
        rs = ReplicaSet(self.new, top + 1, template, seq=len(self.sets))
        rs.replicas = self._new_rs_replicas(rs)
        rs.desired, rs.max_replicas = self.want, self.want + max_surge(self.dep)
        self.sets[self.new] = rs
        if rs.replicas > 0:
            self.record(f"Scaled up replica set {rs.name} to {rs.replicas}")
        return rs

    def _scale_rs(self, rs: ReplicaSet, size: int, operation: str | None = None) -> None:
        """scaleReplicaSet(AndRecordEvent): the size and replicas annotations written, an
        event when the size changed."""
        old = rs.replicas
        if operation is None:
            if old == size:
                return
            operation = "up" if old < size else "down"
        rs.replicas = size
        rs.desired, rs.max_replicas = self.want, self.want + max_surge(self.dep)
        if old != size:
            self.record(f"Scaled {operation} replica set {rs.name} to {size} from {old}")

    def _scale(self, new: ReplicaSet | None) -> None:
        """sync.go scale."""
        olds = self.olds()
        actives = [r for r in [*olds, new] if r is not None and r.replicas > 0]
        if len(actives) <= 1:  # FindActiveOrLatest
            target = actives[0] if actives else new or (olds[-1] if olds else None)
            if target is not None and target.replicas != self.want:
                self._scale_rs(target, self.want)
            return
        if new is not None and self._saturated(new):
            for old in olds:
                if old.replicas > 0:
                    self._scale_rs(old, 0)
            return
        if _rolling(self.dep) is not None:
            self._proportionally(actives)

    def _saturated(self, rs: ReplicaSet) -> bool:
        """deployment_util.go IsSaturated."""
        return rs.replicas == self.want == rs.desired and self.available(rs.name) == self.want

    def _proportionally(self, actives: list[ReplicaSet]) -> None:
        """sync.go scale, mid-rollout: the replicas to add (or remove) shared among the
        active ReplicaSets by their size before the change, larger first; the leftover to
        the first."""
        allowed = self.want + max_surge(self.dep) if self.want > 0 else 0
        to_add = allowed - sum(r.replicas for r in actives)
        newer_first = to_add > 0  # ReplicaSetsBySizeNewer, else BySizeOlder
        actives.sort(key=lambda r: (-r.replicas, -r.seq if newer_first else r.seq))
        operation = "up" if to_add > 0 else "down" if to_add < 0 else ""
        sizes, added = {}, 0
        for rs in actives:
            share = self._proportion(rs, to_add, added) if to_add else 0
            sizes[rs.name] = rs.replicas + share
            added += share
        for i, rs in enumerate(actives):
            size = sizes[rs.name] + (to_add - added if i == 0 and to_add else 0)
            self._scale_rs(rs, max(size, 0), operation)

    def _proportion(self, rs: ReplicaSet, to_add: int, added: int) -> int:
        """deployment_util.go GetProportion with getReplicaSetFraction."""
        if rs.replicas == 0 or to_add == added:
            return 0
        if self.want == 0:
            fraction = -rs.replicas
        else:
            before = rs.max_replicas or (self.dep.get("status") or {}).get("replicas", 0)
            if not before:
                return 0
            target = rs.replicas * (self.want + max_surge(self.dep)) / before
            fraction = math.floor(target + 0.5) - rs.replicas  # integer.RoundToInt32
        allowed = to_add - added
        return min(fraction, allowed) if to_add > 0 else max(fraction, allowed)

    # --- rolling.go ---------------------------------------------------------------------
    def _new_rs_replicas(self, new: ReplicaSet) -> int:
        """deployment_util.go NewRSNewReplicas: up to replicas + maxSurge pods in all, and
        never above replicas; Recreate: replicas."""
        if _rolling(self.dep) is None:
            return self.want
        total = sum(r.replicas for r in self.sets.values() if r is not new) + new.replicas
        most = self.want + max_surge(self.dep)
        if total >= most:
            return new.replicas
        return new.replicas + min(most - total, self.want - new.replicas)

    def _roll(self) -> None:
        """rolloutRolling: scale up if we can, else scale down if we can."""
        new = self._new_replica_set(create=True)
        assert new is not None
        if new.replicas > self.want:  # reconcileNewReplicaSet
            self._scale_rs(new, self.want)
            return
        if new.replicas < self.want:
            size = self._new_rs_replicas(new)
            if size != new.replicas:
                self._scale_rs(new, size)
                return
        self._reconcile_olds(new)

    def _reconcile_olds(self, new: ReplicaSet) -> None:
        """reconcileOldReplicaSets: at most all pods - (replicas - maxUnavailable) - the new
        ReplicaSet's unavailable ones go; unhealthy old ones first, then available ones
        while more than replicas - maxUnavailable stay available."""
        olds = [r for r in self.olds() if r.replicas > 0]
        if not olds:
            return
        total = sum(r.replicas for r in self.sets.values())
        least = self.want - max_unavailable(self.dep)
        room = total - least - (new.replicas - self.available(new.name))
        if room <= 0:
            return
        cleaned = 0
        for rs in olds:  # cleanupUnhealthyReplicas, oldest first
            unhealthy = rs.replicas - self.available(rs.name)
            if cleaned >= room:
                break
            if unhealthy > 0:
                down = min(room - cleaned, unhealthy)
                self._scale_rs(rs, rs.replicas - down)
                cleaned += down
        self._scale_down_olds(olds, new, least)

    def _scale_down_olds(self, olds: list[ReplicaSet], new: ReplicaSet, least: int) -> None:
        """scaleDownOldReplicaSetsForRollingUpdate: the available pods above
        replicas - maxUnavailable (status.availableReplicas of the active old ReplicaSets
        and the new one), from the oldest ReplicaSets first."""
        available = sum(self.available(r.name) for r in [*olds, new])
        excess = available - least
        for rs in olds:
            if excess <= 0:
                break
            if rs.replicas == 0:
                continue
            down = min(rs.replicas, excess)
            self._scale_rs(rs, rs.replicas - down)
            excess -= down

    # --- recreate.go --------------------------------------------------------------------
    def _recreate(self) -> None:
        """rolloutRecreate: old ReplicaSets to 0; once none of their pods is left (not even
        terminating), the new one created (or scaled) to replicas."""
        olds = self.olds()
        for rs in olds:
            if rs.replicas > 0:
                self._scale_rs(rs, 0)
        if any(self.pods_left(rs.name) for rs in olds):
            self._new_replica_set(create=False)
            return
        new = self._new_replica_set(create=True)
        assert new is not None
        self._scale_rs(new, self.want)
