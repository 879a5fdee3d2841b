"""The registry with basic auth, end to end on the lab: an htpasswd (bcrypt) turns auth on,
`fab image` logs docker in on node1 (password on stdin) and pushes, `fab catalog` and the
"already in the registry" check use the same login, node2 pulls after its own login, and
the password is in no output, no file under .state/, no rendered file and no file on node1
but docker's config.json (0600). Without a password the tasks stop, naming the setting."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest

from gourmetops import STATE_DIR
from gourmetops.registry.image import AppSource
from tests.labtools import Lab, secret_holders

APP = Path(__file__).parent / "fixtures" / "app"
USER = "gourmet"
PASSWORD = "gm-R3g1stry-pw-5d81"
PASSWORD_ENV = "GOURMETOPS_REGISTRY_PASSWORD"


class AuthLab:
    def __init__(self, lab: Lab, htpasswd: Path, hashed: str) -> None:
        self.lab = lab
        self.htpasswd = htpasswd
        self.hashed = hashed
        self.outputs: dict[str, str] = {}

    def env(self, password: str | None = PASSWORD) -> dict[str, str]:
        env = {"GOURMETOPS_REGISTRY_HTPASSWD": str(self.htpasswd), "GOURMETOPS_REGISTRY_USER": USER}
        if password is not None:
            env[PASSWORD_ENV] = password
        return env

    def fab(self, *args: str, password: str | None = PASSWORD, **env: str):
        """`fab` with auth on; every output kept for the secret scan."""
        result = self.lab.fab(*args, env={**self.env(password), **env})
        self.outputs[f"fab {' '.join(args)} #{len(self.outputs)}"] = result.stdout
        return result


@pytest.fixture(scope="module")
def auth_lab(docker_lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthLab]:
    import bcrypt

    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt()).decode()
    htpasswd = tmp_path_factory.mktemp("auth") / "htpasswd"
    htpasswd.write_text(f"{USER}:{hashed}\n")
    auth = AuthLab(docker_lab, htpasswd, hashed)
    for stage in ("registry", "image"):
        result = auth.fab(stage)
        assert result.returncode == 0, result.stdout[-3000:]
    assert "==> image: built" in result.stdout
    assert f"docker login --username {USER} --password-stdin node1:5000" in result.stdout
    yield auth
    # Auth off again for whatever module uses the lab next.
    off = docker_lab.fab("registry")
    assert off.returncode == 0, off.stdout[-3000:]


def test_catalog_logs_in_and_lists_the_pushed_image(auth_lab: AuthLab):
    version = AppSource(str(APP)).version()
    result = auth_lab.fab("catalog")
    assert result.returncode == 0, result.stdout[-3000:]
    assert f"gourmetgram-app: {version}, latest" in result.stdout


def test_unchanged_source_is_found_in_the_registry_with_the_login(auth_lab: AuthLab):
    result = auth_lab.fab("image")
    assert result.returncode == 0, result.stdout[-3000:]
    assert "is in the registry already: nothing to build" in result.stdout
    assert "docker build" not in result.stdout


@pytest.mark.parametrize("task", ["image", "catalog"])
def test_auth_on_without_password_stops_naming_the_setting(auth_lab: AuthLab, task: str):
    result = auth_lab.fab(task, password=None)
    assert result.returncode == 1
    assert result.stdout.strip().splitlines()[-1] == (
        f"{task} failed on target lab: registry auth is on (registry_htpasswd = "
        f"{auth_lab.htpasswd}) but no password was given: export {PASSWORD_ENV} "
        f"(the password of registry_user '{USER}')"
    )


def test_auth_on_without_user_stops_naming_registry_user(auth_lab: AuthLab):
    result = auth_lab.fab("catalog", GOURMETOPS_REGISTRY_USER="")
    assert result.returncode == 1
    assert "but registry_user is not set: set registry_user in group_data" in result.stdout


def test_a_wrong_password_is_refused_by_the_registry(auth_lab: AuthLab):
    result = auth_lab.fab("catalog", password="not-the-password")
    assert result.returncode == 1
    assert result.stdout.strip().splitlines()[-1] == (
        "catalog failed on target lab: registry http://10.254.1.11:5000 refused registry_user "
        f"'{USER}' with the password from {PASSWORD_ENV} (401)"
    )


def test_node2_pulls_only_after_logging_in(auth_lab: AuthLab):
    lab = auth_lab.lab
    image = "node1:5000/gourmetgram-app:latest"
    denied = lab.ssh("node2", f"sudo docker pull -q {image}", check=False)
    assert denied.returncode != 0
    assert "no basic auth credentials" in (denied.stdout + denied.stderr).lower()
    lab.ssh(
        "node2",
        f"sudo docker login --username {USER} --password-stdin node1:5000",
        input=PASSWORD + "\n",
    )
    lab.ssh("node2", f"sudo docker pull -q {image}")
    cmd = lab.out("node2", f"sudo docker image inspect {image} --format '{{{{.Config.Cmd}}}}'")
    assert cmd == "[python3 /app/app.py]"


def test_password_only_in_dockers_config_on_node1(auth_lab: AuthLab):
    """The plain password is in no file on node1; its base64 form (how docker stores a
    login) only in docker's config.json, root's and 0600."""
    lab = auth_lab.lab
    encoded = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    # dockerd's image storage is left out: layers hold the app, and scanning them is slow.
    # The secret goes to grep on stdin: in its argv, sudo's journal entry would hold it.
    grep = (
        "sudo grep -rlF --exclude-dir=vfs --exclude-dir=containerd -f - "
        "/etc /home /root /run /srv /tmp /var || true"
    )
    assert lab.ssh("node1", grep, input=PASSWORD + "\n").stdout.strip() == ""
    holders = lab.ssh("node1", grep, input=encoded + "\n").stdout.split()
    assert holders == ["/root/.docker/config.json"], holders
    assert lab.out("node1", f"sudo stat -c '%U %a' {holders[0]}") == "root 600"


def test_password_in_no_output_state_file_or_render_output(auth_lab: AuthLab, tmp_path: Path):
    """Every fab output of this module (runs with the password, without it, with a wrong
    one), `fab render` with the password set and what it wrote, and every file under
    .state/."""
    render_dir = tmp_path / "render"
    rendered = auth_lab.fab("render", "--out", str(render_dir))
    assert rendered.returncode == 0, rendered.stdout[-3000:]
    dry = auth_lab.fab("image", "--dry", "--source", str(tmp_path))
    assert dry.returncode == 0, dry.stdout[-3000:]
    assert "--password-stdin node1:5000 (password on stdin)" in dry.stdout
    secrets = (PASSWORD, auth_lab.hashed, auth_lab.hashed.split("$")[-1])
    found = secret_holders(secrets, auth_lab.outputs, [render_dir, STATE_DIR])
    assert found == []
