"""The one read-only sh script each node runs per check phase. It prints delimited
sections (`@@gourmetops:NAME@@`) of raw facts and judges nothing, so parse.py can be tested
on output recorded from real nodes. Every value put into it goes through shlex.quote."""

from __future__ import annotations

import shlex
from collections.abc import Iterable

MARK = "@@gourmetops:{}@@"
# sbin for modprobe/modinfo/ss/sysctl when cc's PATH lacks it (Debian's default for users).
_HEAD = f"""export PATH="$PATH:/usr/sbin:/sbin" LC_ALL=C
sec() {{ printf '\\n{MARK.format("%s")}\\n' "$1"; }}
"""


def _words(values: Iterable[str]) -> str:
    return " ".join(shlex.quote(v) for v in values)


def pre_script(
    names: Iterable[str],
    modules: Iterable[str],
    disk_paths: Iterable[str],
    packages: Iterable[str],
    apt_source: str,
) -> str:
    """Facts for the pre-install checks; `names` are resolved with getent, `disk_paths` are
    measured at their nearest existing ancestor (they may not exist before install)."""
    return (
        _HEAD
        + f"""sec os-release; cat /etc/os-release 2>/dev/null
sec kernel; uname -r
sec nproc; nproc
sec meminfo; grep -E '^(MemTotal|SwapTotal):' /proc/meminfo
sec df; for p in {_words(disk_paths)}; do q=$p; while [ ! -e "$q" ]; do q=$(dirname "$q"); done
  printf '%s ' "$p"; df -P -k "$q" | tail -n 1; done
sec swaps; cat /proc/swaps
sec ip_forward; cat /proc/sys/net/ipv4/ip_forward
sec modules-loaded; cut -d' ' -f1 /proc/modules 2>/dev/null
sec modules-found; for m in {_words(modules)}; do
  if modprobe -n -q "$m" 2>/dev/null || modinfo -F filename "$m" >/dev/null 2>&1
  then echo "$m"; fi; done
sec clock; date +%s.%N
sec hostname; hostname
sec resolve; for n in {_words(names)}; do
  printf '%s %s\\n' "$n" "$(getent ahostsv4 "$n" | awk 'NR==1{{print $1}}')"; done
sec listen; sudo -n ss -ltnpH 2>/dev/null || ss -ltnH
sec packages
dpkg-query -W -f '${{Package}} ${{db:Status-Status}}\\n' {_words(packages)} 2>/dev/null
sec apt-source; if [ -e {shlex.quote(apt_source)} ]; then echo present; else echo absent; fi
sec firewalld; echo "active=$(systemctl is-active firewalld 2>/dev/null)"
echo "enabled=$(systemctl is-enabled firewalld 2>/dev/null)"
sec end
exit 0
"""
    )


def post_script(units: Iterable[str], image: str, head: bool, service_url: str | None) -> str:
    """Facts for the post-install checks: units enabled, the app image pulled from the
    registry; on the head node also the nodes, the metrics API and the Service's /test."""
    script = (
        _HEAD
        + f"""sec units; for u in {_words(units)}; do
  echo "$u $(systemctl is-enabled "$u" 2>/dev/null)"; done
sec pull; out=$(sudo -n docker pull -q {shlex.quote(image)} 2>&1); echo "rc=$?"
printf '%s\\n' "$out" | tail -n 2
"""
    )
    if head:
        script += """sec nodes; kubectl get nodes --no-headers 2>&1; echo "rc=$?"
sec metrics; err=$(kubectl get --raw /apis/metrics.k8s.io/v1beta1/nodes 2>&1 >/dev/null)
echo "rc=$?"; printf '%s\n' "$err" | tail -n 1
"""
    if head and service_url:
        script += f"""sec service; python3 - {shlex.quote(service_url)} <<'PY'
import sys, urllib.request
try:
    print("status=%d" % urllib.request.urlopen(sys.argv[1], timeout=5).status)
except Exception as exc:
    print("error=%s" % exc)
PY
"""
    return script + "sec end\nexit 0\n"
