"""`fab check` and `fab logs`: read-only looks at every node at once.

probe.py writes one POSIX sh script per node, run.py runs them in parallel over the same
SSH path as the stages, parse.py turns the output into facts, and pre.py/post.py/ports.py
judge the facts against the cluster model and kubespray's own limits (limits.py) into
rows that table.py prints. bundle.py collects the support bundle of `fab logs`.
"""
