"""The names of `fab check`'s checks, before (pre) and after (post) the install: data the
settings schema validates `check_skip` against, kept below both it and gourmetops/check/."""

PRE_CHECKS = (
    "ssh", "os", "cpu", "memory", "disk", "swap", "ip_forward", "modules", "clock",
    "hostname", "resolve", "ports-free", "ports-reach", "leftovers", "firewalld",
)  # fmt: skip
POST_CHECKS = ("ssh", "engine", "ready", "pull", "metrics", "service")
WHEN = {"pre": PRE_CHECKS, "post": POST_CHECKS}
