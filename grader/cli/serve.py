"""``grader serve``: the browser review app (:mod:`grader.serve`) over a batch's gradebook.

Registered on the main ``grader`` group by :mod:`grader.cli`. This module only finds the
gradebook, binds the socket (loopback unless ``--host`` says otherwise) and prints the
URL with its token, as Jupyter does.
"""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import click
from rich.console import Console

from grader.cli.common import course_option, out_dir_option
from grader.config import OUTPUT_ROOT
from grader.course import find_course
from grader.errors import GraderError
from grader.serve.security import LOOPBACK, new_token

console = Console(stderr=True)


@click.command("serve")
@click.option("-a", "--assignment", "name", required=True, help="The assignment to review.")
@out_dir_option
@click.option("--port", type=int, default=8765, show_default=True, help="0: any free port.")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on. Anything but loopback lets other machines reach the "
    "grades (with the token): asked for explicitly, and warned about.",
)
@course_option
def serve_command(name: str, out_dir: Path | None, port: int, host: str, course) -> None:
    """Review a graded class in the browser: scores, reports beside notebooks, marks.

    Reads and writes the gradebook of `grader batch` (OUT/gradebook.sqlite). Open the
    printed URL: it holds a random token, and every request without it is refused.
    Marks entered in the page are checked and logged as `grader mark` does. See
    docs/serve.md.
    """
    import uvicorn

    from grader.serve.app import build_app
    from grader.serve.context import ServeContext

    assignment = find_course(course).assignment(name)
    path = (out_dir or OUTPUT_ROOT / assignment.name) / "gradebook.sqlite"
    if not path.is_file():
        raise GraderError(f"no gradebook at {path}: grade the class first (grader batch)")
    if host not in LOOPBACK:
        console.print(
            f"[yellow]warning:[/] listening on {host}: other machines can reach this page; "
            "anyone with the URL's token can read grades and change marks",
            soft_wrap=True,
        )
    sock = bind(host, port)
    token = new_token()
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{sock.getsockname()[1]}/class?token={token}"
    console.print(f"grader serve: {assignment.name} at {url}", soft_wrap=True, highlight=False)
    context = ServeContext(assignment, path, token)
    threading.Thread(target=context.warm, daemon=True).start()
    app = build_app(context)
    # log_config=None: uvicorn's own config (dictConfig) would shut down every log handler
    # in the process, other libraries' included; its warnings reach stderr through the
    # root logger instead.
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", log_config=None))
    server.run(sockets=[sock])


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise GraderError(
            f"cannot listen on {host}:{port} ({exc.strerror}); try --port 0"
        ) from None
    sock.listen(64)
    return sock


def register(group: click.Group) -> None:
    group.add_command(serve_command)
