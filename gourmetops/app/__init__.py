"""The app on Kubernetes: its manifests, the API client and tunnel, the kubeconfig, and the
rollout/scale/autoscale logic."""
