"""The private registry on node1:5000, every node's trust in it, and the app image pushed there."""
