"""The local three-node lab (`fab lab.up`): node1 reached directly, node2/node3 through it."""

from gourmetops.settings import check_target
from gourmetops.targets import lab_target

check_target("lab")  # group_data refused here, before pyinfra connects anywhere

_groups = lab_target().groups()

head = _groups["head"]
workers = _groups["workers"]
