"""The local lab (`fab lab.up`): node1 reached directly, every other node through it."""

from gourmetops.inventory import groups

_groups = groups("lab")
head = _groups["head"]
workers = _groups["workers"]
