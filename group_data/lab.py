"""What the lab does differently from real nodes."""

from gourmetops import FIXTURES_DIR

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
