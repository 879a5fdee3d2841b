"""The three Chameleon nodes. node1's floating IP comes from GOURMETOPS_FLOATING_IP or
chameleon.local.yaml (`floating_ip: A.B.C.D`); node2/node3 are reached through node1."""

from gourmetops.jump import quiet_dropped_connections
from gourmetops.settings import check_target
from gourmetops.targets import chameleon_target

check_target("chameleon")  # group_data refused here, before pyinfra connects anywhere
quiet_dropped_connections()

_groups = chameleon_target().groups()

head = _groups["head"]
workers = _groups["workers"]
