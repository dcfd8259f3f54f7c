"""prepare.py: gets the machine ready to benchmark: root, tracefs, the peers from Debian.

CI machines start bare, so missing peers are installed with apt-get; a peer that still
cannot be found or cannot trace here is reported and left out, never silently.
"""

import os
import shutil
import subprocess

# binary -> Debian package (GNU time measures the tools' peak RSS)
PEERS = {"strace": "strace", "bpftrace": "bpftrace", "opensnoop": "libbpf-tools",
         "execsnoop": "libbpf-tools", "perf": "linux-perf", "time": "time"}

TRACEFS = "/sys/kernel/tracing"


def which(binary):
    return shutil.which(binary, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")


def _apt(args):
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    r = subprocess.run(["apt-get"] + args, env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    return r.returncode, r.stdout[-2000:]


def install_peers(log):
    missing = sorted({pkg for binary, pkg in PEERS.items() if not which(binary)})
    if not missing:
        return
    if not which("apt-get"):
        log(f"cannot install {' '.join(missing)}: no apt-get on this machine")
        return
    log(f"installing {' '.join(missing)} with apt-get")
    rc, out = _apt(["install", "-y"] + missing)
    if rc != 0:  # a bare machine may have no package lists yet
        _apt(["update"])
        rc, out = _apt(["install", "-y"] + missing)
    if rc != 0:
        log(f"apt-get install failed:\n{out}")


def mount_tracefs(log):
    if os.path.isdir(os.path.join(TRACEFS, "events")):
        return
    r = subprocess.run(["mount", "-t", "tracefs", "tracefs", TRACEFS],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        log(f"mount -t tracefs tracefs {TRACEFS} failed: {r.stdout.strip()}")


def probe(cmd, timeout_s=60):
    """None when cmd works on this machine, else the reason (its last output lines)."""
    try:
        r = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=timeout_s)
    except (OSError, subprocess.TimeoutExpired) as e:
        return str(e)
    if r.returncode != 0:
        return " / ".join(r.stdout.strip().splitlines()[-3:]) or f"exit status {r.returncode}"
    return None


def prepare(log):
    if os.geteuid() != 0:
        raise SystemExit("bench: tracing needs root (BPF, ptrace of the workload, tracefs)")
    mount_tracefs(log)
    install_peers(log)
