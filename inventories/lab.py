"""The local lab (`fab lab.up`): node1 reached directly, every other node through it."""

from gourmetops.jump import quiet_dropped_connections
from gourmetops.settings import check_target
from gourmetops.targets import lab_target

check_target("lab")  # group_data refused here, before pyinfra connects anywhere
quiet_dropped_connections()

_groups = lab_target().groups()

head = _groups["head"]
workers = _groups["workers"]
