"""The kernel command when kernels are forked from a zygote: builds the sandbox, asks for one.

    python -I -S zygote_launch.py REQUEST_JSON -- BWRAP_ARGV...

jupyter_client starts this as the kernel and watches it as the kernel: it lives exactly
as long as the forked kernel does. It runs bubblewrap with the argv the runner built for
any kernel, with a placeholder command (a ``sleep``) in place of Python, so the sandbox
is bubblewrap's own, limits and all. Once the placeholder runs, the sandbox is complete:
this process sends the zygote (:mod:`grader.runners.zygote_server`) the sandbox's
namespaces and root, its own output, and the kernel cgroup's ``cgroup.procs`` files,
as descriptors over the zygote's socket, with the request as JSON.

The zygote answers with the pid of the child that enters the sandbox and waits for the
kernel; this process ends the sandbox and exits when that child has ended (a
``pidfd``), so a zygote that dies (out of memory, say) leaves running kernels running.
When this process is killed, or the worker that started it dies (``PR_SET_PDEATHSIG``,
as bubblewrap's ``--die-with-parent`` was for a kernel started in it), bubblewrap ends
the sandbox, and with its PID namespace the kernel. Standard library only: it starts
with ``-I -S``, in a few milliseconds.
"""

from __future__ import annotations

import ctypes
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import time

NAMESPACES = ("user", "mnt", "net", "ipc", "uts", "pid")
PLACEHOLDER = ["sh", "-c", "echo ready; exec sleep infinity"]
CONNECT_WAIT_S = 30.0
_PR_SET_PDEATHSIG = 1


def _child_pid(info_fd: int) -> int:
    """bubblewrap's ``--info-fd`` JSON, read to its end: the sandbox's first process."""
    text = b""
    while not text.rstrip().endswith(b"}"):
        chunk = os.read(info_fd, 4096)
        if not chunk:
            break
        text += chunk
    return int(json.loads(text)["child-pid"])


def _connect(path: str, zygote_pid: int) -> socket.socket:
    """The zygote's socket, once it listens (it binds within its first milliseconds)."""
    deadline = time.monotonic() + CONNECT_WAIT_S
    while True:
        conn = socket.socket(socket.AF_UNIX)
        try:
            conn.connect(path)
            return conn
        except (FileNotFoundError, ConnectionRefusedError):
            conn.close()
            if not os.path.exists(f"/proc/{zygote_pid}") or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _wait_for_kernel(conn: socket.socket) -> None:
    """Until the zygote's child for this kernel has ended (its pid, then ``exited``)."""
    received = b""
    while b"\n" not in received:
        chunk = conn.recv(64)
        if not chunk:
            return  # the zygote died before it forked: no kernel to wait for
        received += chunk
    line, _, received = received.partition(b"\n")
    try:
        child = os.pidfd_open(int(line))
    except ProcessLookupError:
        return
    with selectors.DefaultSelector() as selector:
        selector.register(child, selectors.EVENT_READ)
        selector.register(conn, selectors.EVENT_READ)
        while b"exited" not in received:
            for key, _ in selector.select():
                if key.fileobj == child:
                    return
                chunk = conn.recv(64)
                received += chunk
                if not chunk:  # the zygote died; its child and the kernel live on
                    selector.unregister(conn)


def main(request: dict, bwrap_argv: list[str]) -> int:
    ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if request.get("parent_pid") not in (None, os.getppid()):
        return 1  # the worker died while this process started
    read_info, write_info = os.pipe()
    argv = [bwrap_argv[0], "--info-fd", str(write_info), *bwrap_argv[1:], *PLACEHOLDER]
    # The placeholder's environment is readable from inside: the kernel's, not ours.
    sandbox = subprocess.Popen(
        argv, pass_fds=[write_info], stdout=subprocess.PIPE, env=request["env"]
    )
    os.close(write_info)
    try:
        if sandbox.stdout.readline() != b"ready\n":
            print("dlgrader: the kernel's sandbox did not start", file=sys.stderr)
            return 1
        pid = _child_pid(read_info)
        fds = [1, 2, os.open(f"/proc/{pid}/root", os.O_RDONLY | os.O_DIRECTORY)]
        fds += [os.open(f"/proc/{pid}/ns/{name}", os.O_RDONLY) for name in NAMESPACES]
        fds += [os.open(path, os.O_WRONLY) for path in request.pop("cgroup_procs")]
        with _connect(request.pop("zygote"), request.pop("zygote_pid")) as conn:
            socket.send_fds(conn, [json.dumps(request).encode()], fds)
            for fd in fds[2:]:
                os.close(fd)
            _wait_for_kernel(conn)
        return 0
    finally:
        sandbox.kill()
        sandbox.wait()


if __name__ == "__main__":
    split = sys.argv.index("--")
    sys.exit(main(json.loads(sys.argv[1]), sys.argv[split + 1 :]))
