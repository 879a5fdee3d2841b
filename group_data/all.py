"""Defaults for every node, whatever the target."""

import os

from gourmetops import KUBESPRAY_UPSTREAM

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

# kubespray, checked out on node1 (the tutorial's "Prepare kubespray").
kubespray_source = KUBESPRAY_UPSTREAM  # kubernetes-sigs/kubespray on GitHub
kubespray_ref = "release-2.26"
kubespray_dir = "kubespray"  # under cc's home, as in the tutorial
kubespray_venv = "myenv"
# Real nodes clone kubespray and install its requirements from the internet themselves;
# True: node1 is offline (the lab), so the controller clones kubespray_source and downloads
# the wheels, and carries both to node1 (a git bundle and a wheel directory).
kubespray_offline = False
# More group_vars overrides on top of the tutorial's two, by file under inventory/mycluster:
# {"group_vars/k8s_cluster/k8s-cluster.yml": {"kube_version": "v1.30.4"}}
kubespray_group_vars = {}

# The playbook `fab cluster` runs, from the kubespray checkout.
cluster_playbook = "cluster.yml"
cluster_retries = 2
# Who puts the Docker engine on the nodes: "kubespray" (its container-engine role, run by
# cluster.yml with container_manager: docker), or "lab" (deploys/lab_container_engine.py,
# the lab's stand-in, after its facts playbook). docker_daemon_settings are keys that
# stand-in writes into /etc/docker/daemon.json beside what the registry stage adds.
container_engine = "kubespray"
docker_daemon_settings = {}

# The private registry on node1 (the tutorial's `node1:5000`), trusted by every node's
# Docker through /etc/docker/daemon.json.
registry = "node1:5000"

# The cluster stage installs Kubernetes, so the kubeconfig stage follows it in `fab up`.
cluster_installs_kubernetes = True
registry_port = 5000
# "docker": the tutorial's registry:2 container (restart always); "package": Debian's
# docker-registry service (the same distribution registry) for nodes without Docker.
registry_runtime = "docker"
registry_image = "registry:2"
# "private": listen on node1's private address only (the registry has no auth by default
# and node1 has a floating IP); "all": every interface, as the tutorial's `-p 5000:5000`.
registry_bind = "private"
# An htpasswd file on the controller (bcrypt: `htpasswd -Bc FILE USER`) turns on basic auth.
# `fab image`/`fab catalog` then log in as registry_user with the password from the
# environment variable GOURMETOPS_REGISTRY_PASSWORD (never kept in a setting or file).
# Both default to an environment variable, for one-off runs and CI.
registry_htpasswd = os.environ.get("GOURMETOPS_REGISTRY_HTPASSWD") or None
registry_user = os.environ.get("GOURMETOPS_REGISTRY_USER") or None

# What builds, pushes and pulls images on the nodes: "docker" or "podman".
container_tool = "docker"

# The app image (the tutorial's gourmetgram-app), built on node1 and pushed to the registry.
app_source = "https://github.com/teaching-on-testbeds/gourmetgram"
app_ref = "main"
app_image = "gourmetgram-app"
image_build_args = []
# An image to make from node1's own root filesystem before building (for offline nodes).
app_base_image_from_rootfs = None

# The Kubernetes objects (manifests/, the tutorial's values) and their parameters.
app_namespace = "kube-gourmetgram"
app_replicas = 1
app_limits = {"cpu": "0.5", "memory": "500Mi"}
app_requests = {"cpu": "0.3", "memory": "300Mi"}
hpa_min = 2
hpa_max = 6
hpa_cpu = 50

# Checks `fab check` and `fab up`'s pre-checks report as skipped on this target, each with
# the reason (a target that cannot produce the condition names it in its own group_data).
check_skip = {}
