"""Images made from a node's own root filesystem, for nodes that can pull nothing (the lab):
the named files, the shared libraries they load (found with ldd), and nothing else. Docker's
vfs storage, the only one that works inside a lab node, copies every layer whole, so a
small base keeps builds and pulls cheap (python3 and its stdlib: about 40 MB).

    python_base_command("docker", "localhost/gourmetops-lab-base")
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable

# Each ELF file in the stage, and every library ldd says it loads (the loader included;
# with several files ldd heads each list with the file's name and a colon: not a library).
_CLOSURE = r"""
find "$stage" -type f \( -perm -u+x -o -name '*.so*' \) -print0 \
  | xargs -0 -r ldd 2>/dev/null \
  | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// && $1 !~ /:$/ {print $1}' \
  | sort -u | while read -r lib; do cp -L --parents "$lib" "$stage"; done
"""


def _import_script(tool: str, image: str, paths: Iterable[str], changes: Iterable[str]) -> str:
    """A root shell script: nothing when `image` exists, else stage `paths` (shell words,
    expanded on the node) with their libraries, and import the stage as `image`."""
    tool_q, image_q = shlex.quote(tool), shlex.quote(image)
    change_args = " ".join(f"--change {shlex.quote(c)}" for c in changes)
    return "\n".join(
        [
            "set -e",
            "cd /  # cp --parents resolves against the working directory too",
            f"{tool_q} image inspect {image_q} >/dev/null 2>&1 && exit 0",
            "stage=$(mktemp -d); trap 'rm -rf \"$stage\"' EXIT",
            f'for p in {" ".join(paths)}; do cp -a --parents "$p" "$stage"; done',
            _CLOSURE.strip(),
            'mkdir -p "$stage/tmp" && chmod 1777 "$stage/tmp"',
            f'tar -C "$stage" -cf - . | {tool_q} import {change_args} - {image_q} >/dev/null',
        ]
    )


def _as_root(script: str) -> str:
    return f"sudo sh -c {shlex.quote(script)}"


def python_base_command(tool: str, image: str) -> str:
    """`image`: python3 with its standard library, the base the lab's app is built on."""
    stdlib = "$(python3 -c 'import sysconfig; print(sysconfig.get_paths()[\"stdlib\"])')"
    paths = ["/usr/bin/python3", "$(readlink -f /usr/bin/python3)", stdlib, "/etc/passwd"]
    return _as_root(_import_script(tool, image, paths, ['CMD ["python3"]']))


def registry_command(tool: str, image: str, config: str) -> str:
    """`image` (registry:2 in the lab): Debian's docker-registry, the same distribution
    registry Docker Hub's registry:2 ships, with `config` as its config.yml."""
    setup = (
        "mkdir -p /etc/gourmetops && "
        f"printf %s {shlex.quote(config)} > /etc/gourmetops/registry-image-config.yml"
    )
    script = _import_script(
        tool,
        image,
        ["/usr/bin/docker-registry", "/etc/gourmetops/registry-image-config.yml"],
        [
            'CMD ["/usr/bin/docker-registry", "serve", '
            '"/etc/gourmetops/registry-image-config.yml"]',
            "EXPOSE 5000",
            'VOLUME ["/var/lib/registry"]',
        ],
    )
    return _as_root(f"{setup}\n{script}")
