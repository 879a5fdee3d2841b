"""The tutorial's "Preliminaries", as host state.

- node1 gets an RSA key of its own and every node authorises it (kubespray's ansible runs
  from node1 to all three); the key is generated in the background while node1 does the
  rest, and collected just before it is authorised;
- node1 knows the three nodes' host keys, read from each node over the controller's
  verified connection (where the tutorial turns host key checking off);
- firewalld is stopped and disabled everywhere (kubespray does not manage firewall rules);
- node1 loses the Docker packages and apt source left by the tutorial's Docker section;
- node1's sshd lets every node's connection through it start at once (gourmetops.jump).

    pyinfra inventories/chameleon.py deploys/prepare.py
"""

import shlex
from typing import Any

from pyinfra import host, inventory, logger
from pyinfra.facts.deb import DebPackages
from pyinfra.facts.server import Home
from pyinfra.operations import apt, files, server

from gourmetops.facts import PathStates, SshHostPublicKeys, SystemdUnit, at_once, shared_fact
from gourmetops.in_place import (
    block_in_place,
    block_written,
    content_in_place,
    in_place_dir,
    in_place_file,
    key_authorised,
    stop_and_disable_commands,
    whole_key_pair,
)
from gourmetops.jump import RELOAD_SSHD, SSHD_DROPIN, max_startups, sshd_dropin
from gourmetops.operations import (
    MAX_SMALL_FILE,
    authorized_head_key,
    known_hosts_lines,
    small_file,
    start_keygen_command,
    unless_in_place,
    wait_keygen_command,
    was_of,
)
from gourmetops.settings import of_host

data = of_host(host)  # settings checked (with any --data) before the first operation
head = inventory.get_group("head")[0]
user = data.cluster_user
is_head = "head" in host.groups
# Each fact is a round trip (through node1 for the workers): ask for a home once.
home = shared_fact(host, Home)  # the workers ask for node1's too: one read of it
head_home = home if is_head else shared_fact(head, Home)
key_path = f"{head_home}/{data.cluster_key_path}"
ssh_dir = f"{home}/.ssh"
keys_file = f"{ssh_dir}/authorized_keys"
known_hosts = f"{ssh_dir}/known_hosts"  # node1's only
KNOWN_HOSTS_MARKER = "# {mark} gourmetops cluster nodes"


def _node1_paths() -> dict:
    """node1's read, built from node1's home by every deploy, so the workers share it."""
    head_ssh = f"{head_home}/.ssh"
    read = (
        f"{key_path}.pub",
        f"{head_ssh}/authorized_keys",
        f"{head_ssh}/known_hosts",
        SSHD_DROPIN,
    )
    return {"paths": (head_ssh, key_path, data.docker_apt_source) + read, "read": read}


# Everything this deploy decides from, read side by side while planning (one round trip of
# waiting): a rerun with nothing to do then runs no operation that reads again. (`host` is
# pyinfra's per-greenlet context: the reads get the Host itself.)
this = inventory.get_host(host.name)
if is_head:
    paths, packages, firewalld, *node_keys = at_once(
        lambda: shared_fact(this, PathStates, **_node1_paths()),
        lambda: this.get_fact(DebPackages),
        lambda: this.get_fact(SystemdUnit, unit="firewalld.service"),
        *(
            (lambda node=node: node.get_fact(SshHostPublicKeys, _sudo=True))
            for node in inventory
            if node.connected
        ),
    )
    head_paths = paths
else:
    paths, firewalld, head_paths = at_once(
        lambda: this.get_fact(PathStates, paths=(ssh_dir, keys_file), read=(keys_file,)),
        lambda: this.get_fact(SystemdUnit, unit="firewalld.service"),
        lambda: shared_fact(head, PathStates, **_node1_paths()) if head.connected else {},
    )
head_key = whole_key_pair(head_paths, key_path)

# --- node1's cluster key, started -------------------------------------------------------
# ssh-keygen (RSA 4096: 1-5 s) runs in the background while node1 does its other work
# (dpkg and apt are the longest); it is collected just before the key is authorised.
generating = is_head and paths[key_path] is None
if is_head:
    unless_in_place(
        in_place_dir(paths[ssh_dir], mode="700"),
        files.directory,
        name="~/.ssh exists and is private",
        path=ssh_dir,
        mode="700",
    )
    if generating:
        server.shell(
            name=f"Generate the cluster key {key_path} (RSA {data.cluster_key_bits}), "
            "in the background",
            commands=[start_keygen_command(key_path, data.cluster_key_bits)],
        )

# --- node1 knows every node's host key -------------------------------------------------
if is_head:
    names_by_address = {h.data.private_address: h.name for h in inventory}
    for node in inventory:
        if not node.connected:
            logger.warning(
                f"[{host.name}] no SSH host key from {node.name} ({node.data.private_address}); "
                "it is left out of known_hosts until a rerun reaches it"
            )
    connected = [node for node in inventory if node.connected]
    host_keys = {n.data.private_address: k for n, k in zip(connected, node_keys, strict=True)}
    lines = known_hosts_lines(names_by_address, host_keys)
    # Written whole in one command from the planning read (files.block reads the block
    # twice first); files.block where the file's layout is unusual or it is large.
    known = paths[known_hosts]
    text = block_written(known, KNOWN_HOSTS_MARKER, lines)
    write: Any  # the operation: small_file or files.block, each with its own arguments
    how: dict[str, Any]
    if text is not None and len(text.encode()) <= MAX_SMALL_FILE:
        write, how = small_file, {"content": text, "was": was_of(known and known.content)}
        how |= {"mode": known.mode if known else "644", "user": user, "group": user}
    else:
        write, how = files.block, {"content": lines, "marker": KNOWN_HOSTS_MARKER}
    unless_in_place(
        block_in_place(known, KNOWN_HOSTS_MARKER, lines),
        write,
        name="Pin the cluster nodes' host keys in known_hosts",
        path=known_hosts,
        **how,
    )

# --- firewalld stopped and disabled ----------------------------------------------------
# The commands systemd.service would run, chosen from the planning fact: the operation
# would read the unit's status and enablement again while executing (two round trips on
# every node, on the first run's critical path).
firewalld_commands = (
    stop_and_disable_commands(firewalld, "firewalld.service") if firewalld is not None else []
)
if firewalld is None:
    host.noop("firewalld: PID 1 is not systemd, so no firewalld service can be running")
elif firewalld.get("LoadState") == "not-found":
    host.noop("firewalld: not installed, nothing to stop")
elif not firewalld_commands:
    # Known from the planning fact: no operation, so no second look at execution time.
    host.noop("firewalld: already stopped and disabled")
else:
    server.shell(
        name="Stop and disable firewalld",
        commands=firewalld_commands,
        _sudo=True,
    )


# --- the tutorial's earlier Docker, removed from node1 ---------------------------------
if is_head:
    unless_in_place(
        not set(data.docker_packages) & set(packages),
        apt.packages,
        name="Remove the Docker packages kubespray would conflict with",
        packages=data.docker_packages,
        present=False,
        _sudo=True,
    )
    # Known to be there from the planning read: removed in one command (files.file would
    # read the path's File fact first).
    docker_list = unless_in_place(
        paths[data.docker_apt_source] is None,
        server.shell,
        name=f"Remove {data.docker_apt_source}",
        commands=[shlex.join(["rm", "-f", "--", data.docker_apt_source])],
        _sudo=True,
    )
    apt.update(
        name="Refresh apt lists without the Docker source",
        _if=docker_list.did_change,
        _ignore_errors=data.apt_update_offline_ok,
        _sudo=True,
    )


# --- node1's sshd sized for the jump host's role ---------------------------------------
if is_head:
    nodes = len(inventory)
    dropin = unless_in_place(
        content_in_place(paths[SSHD_DROPIN], sshd_dropin(nodes), "644", "root", "root"),
        small_file,
        name=f"Let {nodes} nodes connect through {head.name} at once "
        f"(sshd MaxStartups {max_startups(nodes)})",
        path=SSHD_DROPIN,
        content=sshd_dropin(nodes),
        user="root",
        group="root",
        mode="644",
        _sudo=True,
    )
    # A broken sshd config would lock everyone out at the next restart: test before reload.
    server.shell(
        name="sshd accepts its configuration",
        commands=["sshd -t"],
        _if=dropin.did_change,
        _sudo=True,
    )
    server.shell(
        name="Reload sshd (open sessions stay)",
        commands=[RELOAD_SSHD],
        _if=dropin.did_change,
        _sudo=True,
    )


# --- node1's cluster key, collected and authorised everywhere --------------------------
if generating:
    server.shell(
        name=f"Wait for the cluster key {key_path}",
        commands=[wait_keygen_command(key_path)],
    )
elif is_head:
    unless_in_place(
        in_place_file(paths[key_path], mode="600"),
        files.file,
        name="The cluster key is readable by its owner only",
        path=key_path,
        mode="600",
    )

unless_in_place(
    head_key is not None
    and in_place_dir(paths[ssh_dir], mode="700", owner=user)
    and in_place_file(paths[keys_file], mode="600", user=user, group=user)
    and key_authorised(paths[keys_file], head_key),
    authorized_head_key,
    name=f"Authorise {head.name}'s cluster key for {user}",
    head=head.name,
    public_key_path=f"{key_path}.pub",
    user=user,
    home=home,
    # Read while planning when it is there already: saves the operation a round trip.
    public_key=head_key,
)
