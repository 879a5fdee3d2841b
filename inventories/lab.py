"""The local three-node lab (`fab lab.up`): node1 reached directly, node2/node3 through it."""

from gourmetops.targets import lab_target

_groups = lab_target().groups()

head = _groups["head"]
workers = _groups["workers"]
