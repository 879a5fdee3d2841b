"""The lab's stand-in for kubespray's container-engine role (container_manager: docker).

On real nodes `cluster.yml` installs and starts Docker. Lab nodes have no internet and run
kubespray's facts playbook instead, so this deploy, run by the lab's cluster stage, does
that part: Debian's docker.io and crun installed from the .debs the lab's rootfs keeps
(node1's old docker-ce is gone by now: `prepare` removed it), daemon.json with what dockerd
needs inside a lab node (group_data/lab.py docker_daemon_settings), dockerd enabled and
running. On node1 it also makes the `registry:2` image the tutorial's `docker run` pulls
from Docker Hub, from Debian's docker-registry (the same distribution registry, 2.8).

    pyinfra inventories/lab.py deploys/lab_container_engine.py
"""

from pyinfra import host
from pyinfra.facts.deb import DebPackages
from pyinfra.facts.docker import DockerImage
from pyinfra.operations import server, systemd

from gourmetops.lab.rootfs import ENGINE_DEBS, ENGINE_PACKAGES
from gourmetops.operations import docker_daemon_json
from gourmetops.registry.rootfs_image import registry_command
from gourmetops.registry.service import package_config
from gourmetops.settings import of_host

data = of_host(host)

# Before the packages: dockerd's first start already uses these settings.
daemon_json = docker_daemon_json(
    name="/etc/docker/daemon.json has the lab's dockerd settings",
    path="/etc/docker/daemon.json",
    settings=data.docker_daemon_settings,
    _sudo=True,
)
installed = host.get_fact(DebPackages)
missing = [p for p in ENGINE_PACKAGES if p not in installed]
if missing:
    server.shell(
        name=f"Install {', '.join(missing)} from the rootfs's .debs (offline)",
        commands=[
            "DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "
            f"{ENGINE_DEBS}/*.deb"
        ],
        _sudo=True,
    )
systemd.service(
    name="dockerd running and enabled",
    service="docker.service",
    running=True,
    enabled=True,
    _sudo=True,
)
if not missing:
    systemd.service(
        name="Restart dockerd for the new daemon.json",
        service="docker.service",
        restarted=True,
        _if=daemon_json.did_change,
        _sudo=True,
    )
image = data.registry_image
if "head" in host.groups and (missing or not host.get_fact(DockerImage, image, _sudo=True)):
    server.shell(
        name=f"{image} made from Debian's docker-registry (no Docker Hub here)",
        commands=[
            registry_command("docker", image, package_config(":5000", False, "/var/lib/registry"))
        ],
        _sudo=True,
    )
