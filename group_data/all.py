"""Defaults for every node, whatever the target."""

# The key node1 uses to reach every node (kubespray's ansible runs from node1).
cluster_key_path = ".ssh/id_rsa"
cluster_key_bits = 4096

# Left behind on node1 by the tutorial's earlier Docker section; kubespray installs its own.
docker_packages = [
    "docker-ce",
    "docker-ce-cli",
    "containerd.io",
    "docker-buildx-plugin",
    "docker-compose-plugin",
]
docker_apt_source = "/etc/apt/sources.list.d/docker.list"

# A real node reaches its mirrors: a failing `apt update` is an error worth stopping for.
apt_update_offline_ok = False
