"""What the lab does differently from real nodes."""

from gourmetops import KUBESPRAY_UPSTREAM, PROJECT_ROOT, mirrored

# Lab nodes have no route to any mirror by design; after removing docker.list the
# lists cannot be refreshed, and that must not fail the deploy.
apt_update_offline_ok = True

# No internet in the lab's nodes: the controller fetches kubespray and its wheels and
# carries them to node1. It fetches from the offline mirror's bundle when that is present
# (GOURMETOPS_FIXTURES, or ../shared/fixtures), else from upstream like any other target.
kubespray_source = mirrored("kubespray-release-2.26.bundle", KUBESPRAY_UPSTREAM)
kubespray_offline = True

# The lab's nodes have no internet and no kubelet, so cluster.yml cannot succeed there.
# The cluster stage runs kubespray's own facts playbook instead: the same venv, inventory,
# SSH path through node1 and become, with kubespray's defaults and bootstrap-os roles run
# for real against all three nodes; no Kubernetes, hence no kubeconfig stage.
cluster_playbook = "playbooks/facts.yml"
cluster_installs_kubernetes = False

# No internet and no kubespray container-engine run in the lab: the cluster stage's
# stand-in installs Debian's docker.io (and crun) from .debs kept in the rootfs, with
# what dockerd needs inside an nspawn node: vfs storage (no overlay on the node's
# overlayfs), crun without cgroups (the v1 controllers are read-only there), and its
# networks inside the lab's range (nothing of the lab outside 10.254.0.0/16).
container_engine = "lab"
docker_daemon_settings = {
    "storage-driver": "vfs",
    "default-runtime": "crun",
    "runtimes": {"crun": {"path": "/usr/bin/crun", "runtimeArgs": ["--cgroup-manager=disabled"]}},
    "bip": "10.254.100.1/24",
    "default-address-pools": [{"base": "10.254.128.0/18", "size": 24}],
}
# The tutorial's path: registry:2 under Docker, images built and pushed with docker. Docker
# Hub is out of reach, so the stand-in makes registry:2 from Debian's docker-registry.
registry_runtime = "docker"
container_tool = "docker"
# The real GourmetGram needs PyTorch and model weights from the internet: the lab builds a
# small app with the same contract (HTTP on 8000, GET /test), from a base image made of
# python3 from the node's own rootfs (no registry on the internet).
app_source = str(PROJECT_ROOT / "tests" / "fixtures" / "app")
app_base_image_from_rootfs = "localhost/gourmetops-lab-base"

# The lab's nodes share the host's kernel: /proc/swaps and /proc/modules are the host's, and
# neither kubespray nor a node may swapoff or modprobe the host. These two checks are run
# on recorded output from real nodes instead (tests/test_check_parse.py).
check_skip = {
    "swap": "lab nodes share the host's kernel: its swap is the host's, not the node's",
    "modules": "lab nodes share the host's kernel: its modules are the host's to load",
}
