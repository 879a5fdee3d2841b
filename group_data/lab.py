"""What the lab does differently from real nodes."""

# Lab nodes have no route to any mirror by design; after removing docker.list the
# lists cannot be refreshed, and that must not fail the deploy.
apt_update_offline_ok = True
