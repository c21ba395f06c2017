"""The zygote: imports a kernel's modules once, then forks each kernel into its sandbox.

    python -m grader.runners.zygote_server SOCKET MODULE...

Every kernel of a batch used to start a Python, import ipykernel and the lab's framework
and only then run its first cell: ~0.5 CPU s for numpy labs, seconds for torch, paid per
submission on cores the kernels need. This process pays it once. It runs outside any
sandbox, as the grader's user, with the kernel's clean environment, and runs no student
code: it only imports, listens on a socket in a folder no sandbox can see, and forks.

For each kernel the launcher (:mod:`grader.runners.zygote_launch`) has already built the
sandbox with bubblewrap, as for any kernel, with a placeholder process inside, and sends
that sandbox's namespaces and root as file descriptors. The forked child then

1. joins the kernel's cgroup (the launcher's ``cgroup.procs`` descriptors) and sets the
   kernel's rlimits, so nothing born later escapes either;
2. enters the sandbox: ``setns`` into its user, mount, network, IPC, UTS and PID
   namespaces, and ``chroot`` to its root, the view bubblewrap built;
3. drops every capability and sets ``no_new_privs``;
4. takes the kernel's environment and output descriptors, and forks the kernel itself,
   the first process born inside the sandbox's PID namespace, so it dies with the sandbox.

The child then waits for the kernel and exits with its status. The zygote tells the
launcher the child's pid, then ``exited`` when it has reaped it, and kills the child
when the launcher goes away.
Only the standard library is imported before the modules named on the command line.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import selectors
import shutil
import signal
import socket
import sys
from typing import Any

#: Namespaces entered, in order: the user namespace first grants the rights for the rest.
NAMESPACES = ("user", "mnt", "net", "ipc", "uts", "pid")
#: A request: a JSON line, then these descriptors (plus one per cgroup.procs file).
FIXED_FDS = ("stdout", "stderr", "root", *NAMESPACES)
MAX_FDS = len(FIXED_FDS) + 2
RLIMITS = {
    "cpu": resource.RLIMIT_CPU,
    "core": resource.RLIMIT_CORE,
    "fsize": resource.RLIMIT_FSIZE,
    "as": resource.RLIMIT_AS,
}

_PR_SET_PDEATHSIG = 1
_PR_CAPBSET_DROP = 24
_PR_SET_NO_NEW_PRIVS = 38
_LINUX_CAPABILITY_VERSION_3 = 0x20080522


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def drop_capabilities() -> None:
    """No capability left in any set, none to regain: what bubblewrap does for its child."""
    _check(_libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    for cap in range(64):
        if _libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 and ctypes.get_errno() != 22:
            _check(-1, f"dropping capability {cap}")  # EINVAL: past the last capability
    header = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    _check(_libc.capset(ctypes.byref(header), data), "capset")


def enter_sandbox(fds: dict[str, int], cwd: str) -> None:
    """Join the namespaces and root of the launcher's bubblewrap sandbox (as ``nsenter``)."""
    for name in NAMESPACES:
        _check(_libc.setns(fds[name], 0), f"entering the sandbox's {name} namespace")
    os.fchdir(fds["root"])
    os.chroot(".")
    os.chdir(cwd)


def become_kernel(request: dict[str, Any], fds: list[int], app: Any) -> None:
    """In the forked child: confine it as the sandbox confines a kernel, then run one."""
    named = dict(zip(FIXED_FDS, fds, strict=False))
    for procs in fds[len(FIXED_FDS) :]:
        os.write(procs, str(os.getpid()).encode())
    for name, value in request["rlimits"].items():
        resource.setrlimit(RLIMITS[name], (value, value))
    os.setsid()
    enter_sandbox(named, request["cwd"])
    drop_capabilities()
    os.environ.clear()
    os.environ.update(request["env"])
    null = os.open("/dev/null", os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(named["stdout"], 1)
    os.dup2(named["stderr"], 2)
    os.closerange(3, 65536)
    kernel = os.fork()
    if kernel == 0:
        # The kernel is the sandbox's; its parent here only waits for it.
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        sys.argv = ["ipykernel_launcher", "-f", request["connection_file"]]
        # ipykernel read JPY_PARENT_PID when the zygote imported it, before this environment.
        sys.argv.append(f"--IPKernelApp.parent_handle={os.environ.get('JPY_PARENT_PID', 0)}")
        app.launch_instance(argv=sys.argv[1:])
        os._exit(0)
    _, status = os.waitpid(kernel, 0)
    os._exit(os.waitstatus_to_exitcode(status) & 0xFF)


def serve(sock_path: str, modules: list[str]) -> None:
    """Listen, import, then fork a kernel per connection until the worker goes away.

    The socket listens before the imports, so a launcher can connect at once and wait in
    the backlog; a module that fails to import is left out, as a kernel's failed warm
    import would be. One thread of Python: a fork copies only the calling thread, so
    nothing the zygote does is half-done in a child (BLAS pools are re-created after fork).
    """
    import importlib

    parent = os.getppid()
    server = socket.socket(socket.AF_UNIX)
    server.bind(sock_path)
    server.listen(64)
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - the kernel imports it itself, or says why
            print(f"dlgrader zygote: {name} not imported ahead: {exc}", file=sys.stderr)
    from ipykernel.kernelapp import IPKernelApp

    selector = selectors.DefaultSelector()
    selector.register(server, selectors.EVENT_READ)
    children: dict[int, socket.socket] = {}  # child pid -> its launcher's connection
    while os.getppid() == parent:  # a zygote outlives no worker
        for key, _ in selector.select(timeout=0.2):
            if key.fileobj is server:
                conn, _ = server.accept()
                message, fds, _, _ = socket.recv_fds(conn, 1 << 16, MAX_FDS)
                pid = os.fork()
                if pid == 0:
                    selector.close()
                    server.close()
                    for other in children.values():
                        other.close()
                    conn.close()
                    try:
                        become_kernel(json.loads(message), fds, IPKernelApp)
                    except BaseException as exc:  # noqa: BLE001 - the launcher reports it
                        os.write(2, f"dlgrader zygote: {exc}\n".encode())
                    os._exit(70)
                for fd in fds:
                    os.close(fd)
                _send(conn, f"{pid}\n")
                children[pid] = conn
                selector.register(conn, selectors.EVENT_READ, pid)
            else:
                # The launcher went away (killed with its kernel): end the child too.
                selector.unregister(key.fileobj)
                if key.data in children:
                    os.kill(key.data, signal.SIGKILL)
        _reap(children, selector)
    # The process that started it is gone (killed, or it would have killed this one and
    # removed the folder itself): nothing else removes the folder of the socket and home.
    shutil.rmtree(os.path.dirname(sock_path), ignore_errors=True)


def _reap(children: dict[int, socket.socket], selector: selectors.BaseSelector) -> None:
    while children:
        pid, _ = os.waitpid(-1, os.WNOHANG)
        if pid == 0:
            return
        conn = children.pop(pid, None)
        if conn is not None:
            if _registered(selector, conn):
                selector.unregister(conn)
            _send(conn, "exited\n")
            conn.close()


def _send(conn: socket.socket, text: str) -> None:
    try:
        conn.sendall(text.encode())
    except OSError:
        pass  # the launcher is gone: nothing waits for the answer


def _registered(selector: selectors.BaseSelector, conn: socket.socket) -> bool:
    try:
        selector.get_key(conn)
    except KeyError:
        return False
    return True


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2:])
