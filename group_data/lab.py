"""What the lab does differently from real nodes."""

from gourmetops import FIXTURES_DIR, PROJECT_ROOT

# Lab nodes have no route to any mirror by design; after removing docker.list the
# lists cannot be refreshed, and that must not fail the deploy.
apt_update_offline_ok = True

# No internet in the lab: kubespray comes from the bundled snapshot (copied to node1),
# its requirements from wheels the controller downloads.
kubespray_source = str(FIXTURES_DIR / "kubespray-release-2.26.bundle")
kubespray_offline_wheels = True

# The lab's nodes have no internet and no kubelet, so cluster.yml cannot succeed there.
# The cluster stage runs kubespray's own facts playbook instead: the same venv, inventory,
# SSH path through node1 and become, with kubespray's defaults and bootstrap-os roles run
# for real against all three nodes; no Kubernetes, hence no kubeconfig stage.
cluster_playbook = "playbooks/facts.yml"
cluster_installs_kubernetes = False

# No Docker engine in the lab: Debian's docker-registry package serves node1:5000 and
# podman (daemonless) builds, pushes and pulls; both are in the lab's rootfs.
registry_runtime = "package"
container_tool = "podman"
# The real GourmetGram needs PyTorch and model weights from the internet: the lab builds a
# small app with the same contract (HTTP on 8000, GET /test), from a base image made of the
# node's own rootfs (no registry on the internet). podman builds without a daemon here
# with chroot isolation.
app_source = str(PROJECT_ROOT / "tests" / "fixtures" / "app")
app_base_image_from_rootfs = "localhost/gourmetops-lab-base"
image_build_args = ["--isolation=chroot"]
