"""The three Chameleon nodes. node1's floating IP comes from GOURMETOPS_FLOATING_IP or
chameleon.local.yaml (`floating_ip: A.B.C.D`); node2/node3 are reached through node1."""

from gourmetops.inventory import groups

_groups = groups("chameleon")
head = _groups["head"]
workers = _groups["workers"]
