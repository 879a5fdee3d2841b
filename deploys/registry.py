"""The tutorial's "Prepare a container registry", as host state.

- node1 runs a registry on port 5000 (registry:2 with Docker; Debian's docker-registry
  service where there is no Docker engine, as in the lab), bound to node1's private
  address unless registry_bind = "all", with basic auth when registry_htpasswd names an
  htpasswd file on the controller;
- every node trusts it: /etc/docker/daemon.json merged (other keys kept, invalid JSON
  refused and left alone), Docker restarted only when that file changed; nodes that use
  podman get the same trust in /etc/containers/registries.conf.d.

    pyinfra inventories/chameleon.py deploys/registry.py
"""

from io import StringIO
from pathlib import Path

from pyinfra import host, inventory, logger
from pyinfra.api.exceptions import DeployError
from pyinfra.facts.docker import DockerContainer
from pyinfra.operations import apt, docker, files, server, systemd
from pyinfra.operations.util import any_changed

from gourmetops.facts import PathStates, SystemdUnit, at_once
from gourmetops.in_place import container_in_place, content_in_place, daemon_json_in_place
from gourmetops.operations import docker_daemon_json, unless_in_place
from gourmetops.pyinfra_run import is_dry_run
from gourmetops.registry.daemon_json import restart_or_restore_command
from gourmetops.registry.service import (
    CONTAINER_HTPASSWD,
    PACKAGE_CONFIG,
    PACKAGE_HTPASSWD,
    container_differs,
    container_env,
    listen_address,
    package_config,
)
from gourmetops.settings import SettingsError, of_host

DAEMON_JSON = "/etc/docker/daemon.json"
PODMAN_CONF = "/etc/containers/registries.conf.d/50-gourmetops-registry.conf"
HTPASSWD = "/etc/gourmetops/registry.htpasswd"

data = of_host(host)  # settings checked (with any --data) before the first operation
htpasswd = data.registry_htpasswd
if htpasswd and not Path(htpasswd).is_file():
    raise SettingsError(f"registry_htpasswd: {htpasswd} does not exist on the controller")

# One planning read of the files below decides which of their operations have anything to
# do (a no-op rerun then runs none: each would read its own facts again while executing),
# side by side with docker.service's. (`host` is pyinfra's per-greenlet context: the reads
# get the Host itself.)
FILES = (DAEMON_JSON, PODMAN_CONF, HTPASSWD)
this = inventory.get_host(host.name)
docker_unit, now = at_once(
    lambda: this.get_fact(SystemdUnit, unit="docker.service"),
    lambda: this.get_fact(PathStates, paths=FILES, read=FILES, _sudo=True),
)

# --- every node trusts node1:5000 -----------------------------------------------------
daemon_json = unless_in_place(
    daemon_json_in_place(now[DAEMON_JSON], data.registry),
    docker_daemon_json,
    name=f"/etc/docker/daemon.json trusts {data.registry}",
    path=DAEMON_JSON,
    registry=data.registry,
    _sudo=True,
)
has_docker = docker_unit is not None and docker_unit.get("LoadState") != "not-found"
if has_docker:
    server.shell(
        name="Restart Docker for the new daemon.json (the previous one back if it fails)",
        commands=[restart_or_restore_command("/etc/docker/daemon.json")],
        _sudo=True,
        _if=daemon_json.did_change,
    )
else:
    host.noop("no docker.service here: daemon.json applies when Docker starts")

if data.container_tool == "podman":
    trust = f'[[registry]]\nlocation = "{data.registry}"\ninsecure = true\n'
    unless_in_place(
        content_in_place(now[PODMAN_CONF], trust, mode="644"),
        files.put,
        name=f"podman trusts {data.registry}",
        src=StringIO(trust),
        dest=PODMAN_CONF,
        mode="644",
        _sudo=True,
    )

# --- the registry on node1 ------------------------------------------------------------
if "head" in host.groups:
    addr = listen_address(data.private_address, data.registry_port, data.registry_bind)
    if data.registry_runtime == "docker" and not has_docker:
        why = "no Docker engine on it yet (the cluster stage installs it)"
        if not is_dry_run():
            raise DeployError(f"{host.name}: {why}: run `fab cluster` first")
        # Said while planning: a dry run executes nothing, so a noop would not be shown.
        logger.warning(f"[{host.name}] would run {data.registry_image} on {addr}: {why}")
    elif data.registry_runtime == "docker":
        volumes = ["registry-data:/var/lib/registry"]
        if htpasswd:
            unless_in_place(
                content_in_place(now[HTPASSWD], Path(htpasswd).read_text(), mode="640"),
                files.put,
                name="Registry htpasswd",
                src=htpasswd,
                dest=HTPASSWD,
                mode="640",
                _sudo=True,
            )
            volumes.append(f"{HTPASSWD}:{CONTAINER_HTPASSWD}:ro")
        # docker publishes "ip:port:5000", or "port:5000" on every interface
        port = f"{addr.lstrip(':')}:5000"
        env = container_env(bool(htpasswd))
        live = host.get_fact(DockerContainer, object_id="registry", _sudo=True)
        changed = container_differs(live, data.registry_image, port, env, volumes)
        unless_in_place(
            container_in_place(live, changed),
            docker.container,
            name=f"registry:2 on {addr}"
            + (f" (recreated: its {', '.join(changed)} changed)" if changed else ""),
            container="registry",
            image=data.registry_image,
            ports=[port],
            volumes=volumes,
            env_vars=env,
            restart_policy="always",
            present=True,
            start=True,
            force=bool(changed),
            _sudo=True,
        )
    else:  # "package" (the settings schema allows no other)
        # Config first: installing the package starts the registry, and with its own
        # default config it would listen on every interface (dpkg keeps our conffile).
        config = files.put(
            name=f"Registry listens on {addr}",
            src=StringIO(package_config(addr, bool(htpasswd))),
            dest=PACKAGE_CONFIG,
            mode="644",
            _sudo=True,
        )
        apt.packages(name="Debian's docker-registry", packages=["docker-registry"], _sudo=True)
        auth = None
        if htpasswd:
            auth = files.put(
                name="Registry htpasswd",
                src=htpasswd,
                dest=PACKAGE_HTPASSWD,
                user="root",
                group="docker-registry",
                mode="640",
                _sudo=True,
            )
        systemd.service(
            name="docker-registry running and enabled",
            service="docker-registry.service",
            running=True,
            enabled=True,
            _sudo=True,
        )
        systemd.service(
            name="Restart docker-registry for its new settings",
            service="docker-registry.service",
            restarted=True,
            _sudo=True,
            _if=any_changed(config, auth) if auth else config.did_change,
        )
