"""Day two: take a node out of the running cluster (kubespray's remove-node.yml). A node
added to cluster.yaml joins with `fab up` (scale.yml limited to it, or cluster.yml for a
control-plane or etcd node)."""

from __future__ import annotations

from tasks.common import TARGET_HELP, gtask, retries_flag


@gtask(
    help={
        **TARGET_HELP,
        "node": "the node to remove: one of the cluster's last run (node1's record)",
        "yes": "go on without typing the target's name",
        "offline": "the node is not online: no drain, no reset on it (kubespray's "
        "reset_nodes=false, allow_ungraceful_removal=true)",
        "retries": "reruns while hosts fail (default 0)",
        "dry": "read node1's record and inventory, show the plan, change nothing",
    }
)
def remove(c, node, target=None, yes=False, offline=False, retries=None, dry=False):
    """Drain NODE, remove Kubernetes from it, delete it from the cluster; node1 stays.

    kubespray's remove-node.yml -e node=NODE, after typing the target's name (or --yes)."""
    from gourmetops.kubespray import remove as removemod
    from gourmetops.run import changing
    from gourmetops.targets import get_target

    retries = retries_flag(retries, 0)
    removemod.refused(get_target(target).cluster, node)  # before the question
    if not dry:
        removemod.confirm(target, node, yes)
    with changing(target, "nodes.remove", dry) as ctx:
        removemod.remove(ctx, node, dry, retries, offline)
