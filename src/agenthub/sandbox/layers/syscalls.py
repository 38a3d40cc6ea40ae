"""The seccomp filter (libseccomp through ``pyseccomp``): system calls a run must never make.

Denied calls fail with ``EPERM`` rather than killing the process, so honest code that
brushes against one gets an error it can read instead of a dead run (the filter kills
only on a foreign architecture, libseccomp's default). The filter is built once in the fork
server and loaded by each sandboxed process before it reads any user text.
"""

from __future__ import annotations

import errno
from typing import Any

DENIED = (
    # Network: no new sockets, no connections (the run's channel was made before).
    "socket", "socketpair", "connect", "bind", "listen", "accept", "accept4",
    # New programs and processes (threads too: a run has one thread).
    "execve", "execveat", "fork", "vfork", "clone", "clone3",
    # Other processes.
    "ptrace", "kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo",
    "pidfd_open", "pidfd_send_signal", "pidfd_getfd", "process_vm_readv", "process_vm_writev",
    "process_madvise",
    # Mounts, namespaces and the machine.
    "mount", "umount2", "pivot_root", "chroot", "unshare", "setns", "fsopen", "fsmount",
    "fsconfig", "move_mount", "open_tree", "mount_setattr", "reboot", "kexec_load",
    "kexec_file_load", "init_module", "finit_module", "delete_module", "swapon", "swapoff",
    "acct", "quotactl", "syslog", "sethostname", "setdomainname", "settimeofday",
    "clock_settime", "clock_adjtime", "adjtimex", "iopl", "ioperm", "modify_ldt",
    # Identity and capabilities stay as the sandbox set them. (Limits can only go down for
    # an unprivileged process; the sandbox itself lowers them to a run's own after this.)
    "setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setgroups",
    "setfsuid", "setfsgid", "capset", "personality",
    # Kernel interfaces with a history of escapes.
    "bpf", "perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter",
    "io_uring_register", "keyctl", "add_key", "request_key", "open_by_handle_at",
    "name_to_handle_at", "mknod", "mknodat", "fanotify_init", "lookup_dcookie", "vhangup",
    "move_pages", "migrate_pages", "mbind", "set_mempolicy",
)


def build() -> Any | None:
    """The filter, ready to load; None when libseccomp is not on this machine."""
    try:
        import pyseccomp
    except (ImportError, OSError, RuntimeError):  # RuntimeError: libseccomp not found
        return None
    try:
        flt = pyseccomp.SyscallFilter(defaction=pyseccomp.ALLOW)
    except Exception:  # noqa: BLE001 - libseccomp missing or unusable: the layer is off
        return None
    for name in DENIED:
        try:
            flt.add_rule(pyseccomp.ERRNO(errno.EPERM), name)
        except (OSError, ValueError, RuntimeError):
            continue  # a call this architecture does not have
    return flt


def load(flt: Any) -> None:
    """Install the filter on this process, for good (it survives everything the process does)."""
    flt.load()
