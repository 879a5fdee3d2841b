"""node1's sshd sized for its role as the jump host.

Every connection to a worker starts as a connection to node1 (pyinfra opens one per worker,
all at once; `fab check` and Ansible's ProxyJump do too). OpenSSH's default
`MaxStartups 10:30:100` drops 30% of new connections once ten are still authenticating,
so from about a dozen nodes a run fails at random. prepare raises the threshold on node1 in
proportion to the cluster:

    >>> print(sshd_dropin(12), end="")
    # gourmetops: node1 is the jump host for 12 nodes (deploys/prepare.py)
    MaxStartups 24:30:240
"""

from __future__ import annotations

SSHD_DROPIN = "/etc/ssh/sshd_config.d/60-gourmetops-jump.conf"
DEFAULT_START = 10  # OpenSSH's own MaxStartups start


def max_startups(nodes: int) -> str:
    """start:rate:full with room for two tools reaching every node at once."""
    start = max(DEFAULT_START, 2 * nodes)
    return f"{start}:30:{10 * start}"


def sshd_dropin(nodes: int) -> str:
    return (
        f"# gourmetops: node1 is the jump host for {nodes} nodes (deploys/prepare.py)\n"
        f"MaxStartups {max_startups(nodes)}\n"
    )


# sshd reads the drop-in on reload. Debian and Ubuntu name the daemon ssh.service (also when
# ssh.socket starts it, as on Ubuntu 24.04), RHEL sshd.service; where a socket starts one
# sshd per connection (Accept=yes), no daemon runs and each one reads the file anew.
RELOAD_SSHD = (
    "for unit in ssh.service sshd.service; do "
    'if systemctl is-active --quiet "$unit"; then exec systemctl reload "$unit"; fi; done; '
    "echo 'no sshd daemon to reload: sshd starts per connection and reads its configuration'"
)


def quiet_dropped_connections() -> None:
    """In pyinfra's process: a connection the jump host dropped is tried again (Target's
    `ssh_connect_retries` for the workers), and one that fails for good is reported by
    pyinfra naming the host; paramiko's own traceback of each drop only buries that."""
    import logging

    logging.getLogger("paramiko.transport").setLevel(logging.CRITICAL)
