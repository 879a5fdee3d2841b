#!/usr/bin/env bash
# Install everything on a fresh Debian 12 machine, then run the main job or the tests.
#   sudo scripts/setup.sh up     # install, bring the lab up, run every stage (fab up)
#   sudo scripts/setup.sh test   # install, run the test suite against the lab
set -euo pipefail
cd "$(dirname "$0")/.."
action=${1:-up}

if [ "$(id -u)" != 0 ]; then
  echo "setup.sh: run as root (the lab uses network namespaces, overlayfs and systemd-nspawn)" >&2
  exit 1
fi

echo "==> apt: host tools for the lab and the stages"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends \
  debootstrap systemd-container iproute2 util-linux openssh-client \
  git ca-certificates python3 python3-venv python3-pip

echo "==> pip: the project into .venv"
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip
.venv/bin/pip install -q -e '.[dev]'

case "$action" in
  up)   exec .venv/bin/fab up --target lab ;;
  test)
    # The lab's rootfs (debootstrap, about two minutes in a fresh clone) builds meanwhile.
    mkdir -p .lab
    .venv/bin/fab lab.build > .lab/build.log 2>&1 &
    build=$!
    trap 'kill $build 2>/dev/null || true' EXIT
    echo "==> static checks: ruff, mypy (configured in pyproject.toml; the rootfs builds)"
    .venv/bin/ruff check .
    .venv/bin/ruff format --check .
    .venv/bin/mypy
    echo "==> unit tier: every test that needs no lab (the rootfs builds in the background)"
    # Two workers: the tier is CPU-bound. Tests sharing the checkout's .state/ share a
    # worker (tests/conftest.py, CHECKOUT_STATE_MODULES).
    .venv/bin/pytest -m "not lab" -n 2
    echo "==> lab tier: the tests on two three-node labs side by side (tests/lab_shards.py)"
    if ! wait $build; then cat .lab/build.log; exit 1; fi
    trap - EXIT
    exec .venv/bin/python -m tests.lab_shards ;;
  *)    echo "setup.sh: unknown action '$action' (use: up | test)" >&2; exit 2 ;;
esac
