"""The local lab: one systemd-nspawn node per node of the cluster (three in cluster.yaml),
each in its own network namespace on this machine, node1 reachable from here, the others
only through it. `lab.scale --nodes N` writes the same cluster grown to N nodes."""

from __future__ import annotations

from tasks.common import gtask

# gourmetops.lab is imported in each task, when it runs: it pulls in pydantic and pyinfra.


@gtask(name="up")
def lab_up(c):
    """Start the local lab (no-op if it runs; a stale lab is cleaned first)."""
    from gourmetops import lab as labmod

    print(labmod.up())


@gtask(name="down")
def lab_down(c):
    """Stop the lab and remove its namespaces, mounts and route (only what it made)."""
    from gourmetops import lab as labmod

    labmod.down()
    print(labmod.status())


@gtask(name="status")
def lab_status(c):
    """Show whether the lab runs, and each node's nspawn PID."""
    from gourmetops import lab as labmod

    print(labmod.status())


@gtask(name="reset")
def lab_reset(c):
    """Pristine nodes in seconds: fresh overlay upper dirs and host keys, same rootfs."""
    from gourmetops import lab as labmod

    print(labmod.reset())


@gtask(name="build")
def lab_build(c):
    """Build the nodes' cached root filesystem and node1's Docker layer (debootstrap).

    About two minutes the first time; nothing when their recipes are unchanged."""
    from gourmetops.lab import require_root_and_tools
    from gourmetops.lab.rootfs import ensure_layers
    from gourmetops.targets import LAB_DIR

    require_root_and_tools()
    rootfs, docker_layer = ensure_layers(LAB_DIR)
    print(f"rootfs {rootfs}; node1's Docker layer {docker_layer}")


@gtask(name="scale", help={"nodes": "how many nodes (node1..nodeN; 3 to 12 fit this lab)"})
def lab_scale(c, nodes=12):
    """Write cluster.yaml grown to N nodes (.lab/clusters/cluster-N.yaml); say how to use it.

    Every task reads it from GOURMETOPS_CLUSTER."""
    from gourmetops.cluster import CLUSTER_ENV, load_cluster
    from gourmetops.lab.scaled import write_scaled
    from gourmetops.targets import LAB_DIR

    path = LAB_DIR / "clusters" / f"cluster-{int(nodes)}.yaml"
    cluster = write_scaled(load_cluster(), int(nodes), path)
    print(f"wrote {path} ({len(cluster.nodes)} nodes, roles by kubespray's builder rule)")
    print(f"use it with: {CLUSTER_ENV}={path} fab up --target lab")
