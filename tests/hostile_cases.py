"""The hostile and broken submissions, each with the verdict the grader must give.

A case is the toy course's correct solution with hostile cells added (or a broken file in
its place). Its verdict says how many points it must get (out of 9: the GPU point is
excluded without a GPU), which words a student must be able to read about what happened
(matched against the stop reason, the cell errors, the grading error and the criteria
details), and, for tampering, what the instructor's report must flag.

Paths a snooping cell tries are filled in when the case is built: ``{hidden}`` (a hidden
test of the course), ``{rubric}``, ``{config}`` (the assignment's config), ``{other}``
(another student's submission in the same batch), ``{grader}`` (the grader's source
folder, readable by design: it is public code) and ``{outside}`` (a file the grader owns
outside every sandbox path).
"""

from __future__ import annotations

import gzip
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nbformat

TOY = Path(__file__).parent / "fixtures" / "toy_course"
FULL = 9.0  # add 2 + scale 3 + estimate 3 + params 1; the GPU point is excluded

#: Fake code defining the toy functions, so cases can break them on purpose.
WRONG_SCALE = "def scale(x, k):\n    return np.asarray(x) * k + 1e-3"


@dataclass(frozen=True)
class Verdict:
    points: float
    says: str = ""  # a regex the student can read, somewhere in what the result says
    flags: str = ""  # a regex the instructor's flags must match ("" = no flag required)
    stopped: bool | None = None  # the kernel stopped before the last cell


@dataclass(frozen=True)
class Case:
    name: str
    what: str
    expect: Verdict
    cells: tuple[str, ...] = ()
    before_estimate: bool = False  # insert the cells before the estimate cell
    write: Callable[[Path], None] | None = None  # a broken file instead of a notebook
    needs: str = ""  # an enforcement the case depends on ("pids"), else it is skipped


def toy_solution() -> nbformat.NotebookNode:
    return nbformat.read(TOY / "solutions" / "toy.ipynb", as_version=4)


def build(case: Case, folder: Path, paths: dict[str, str]) -> Path:
    """Write the case's submission into ``folder`` and return its path."""
    target = folder / f"{case.name}.ipynb"
    if case.write is not None:
        case.write(target)
        return target
    notebook = toy_solution()
    cells = [nbformat.v4.new_code_cell(_fill(source, paths)) for source in case.cells]
    at = len(notebook.cells) - 1 if case.before_estimate else len(notebook.cells)
    notebook.cells[at:at] = cells
    nbformat.write(notebook, target)
    return target


def _fill(source: str, paths: dict[str, str]) -> str:
    for key, value in paths.items():
        source = source.replace("{" + key + "}", value)
    return source


# -- broken files ----------------------------------------------------------------------------


def _text(content: str | bytes) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")

    return write


def _nbformat3(path: Path) -> None:
    cells = [{"cell_type": "code", "input": "x = 1", "language": "python", "outputs": []}]
    v3 = {"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [{"cells": cells}]}
    path.write_text(json.dumps(v3), encoding="utf-8")


def _edited(change: Callable[[dict], None]) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        raw = json.loads((TOY / "solutions" / "toy.ipynb").read_text(encoding="utf-8"))
        change(raw)
        path.write_text(json.dumps(raw), encoding="utf-8")

    return write


def _duplicate_ids(raw: dict) -> None:
    for cell in raw["cells"]:
        cell["id"] = "same-id"


def _missing_kernel(raw: dict) -> None:
    raw["metadata"]["kernelspec"] = {
        "name": "julia-1.9",
        "display_name": "Julia",
        "language": "julia",
    }


def _other_assignment(raw: dict) -> None:
    raw["metadata"]["dlgrader"] = {"assignment": "lenet5"}


def _huge(path: Path) -> None:
    raw = json.loads((TOY / "solutions" / "toy.ipynb").read_text(encoding="utf-8"))
    raw["cells"].append(
        {"cell_type": "markdown", "id": "padding", "metadata": {}, "source": "x" * 200_000_000}
    )
    path.write_text(json.dumps(raw), encoding="utf-8")


def _zip_traversal(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("../../escaped.txt", "outside")
        archive.writestr("notebook.ipynb", (TOY / "solutions" / "toy.ipynb").read_text())


CASES: list[Case] = [
    # -- never-ending work ------------------------------------------------------------------
    Case(
        "infinite_loop",
        "while True: pass",
        Verdict(FULL, r"cell 6 did not finish within 3 s"),
        cells=("while True:\n    pass",),
    ),
    Case(
        "huge_epoch_count",
        "a training loop of 10**9 epochs",
        Verdict(FULL, r"did not finish within 3 s"),
        cells=("total = 0\nfor epoch in range(10**9):\n    total += sum(range(100))",),
    ),
    Case(
        "ignores_interrupts",
        "SIGINT ignored, then an endless loop",
        Verdict(FULL, r"cell 5 was skipped: cell 5 ran past 3 s and did not stop", stopped=False),
        before_estimate=True,
        cells=(
            "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass",
        ),
    ),
    Case(
        "sleeping_thread",
        "a non-daemon thread sleeping for days",
        Verdict(FULL),
        cells=(
            "import threading, time\n"
            "threading.Thread(target=time.sleep, args=(10**6,), daemon=False).start()",
        ),
    ),
    Case(
        "waits_for_input",
        "input() in a cell",
        Verdict(FULL, r"StdinNotImplementedError"),
        cells=("name = input('your name? ')",),
    ),
    # -- resource abuse ---------------------------------------------------------------------
    Case(
        "memory_bomb",
        "one 100 GB allocation",
        Verdict(FULL, r"MemoryError"),
        cells=("hog = bytearray(100 * 10**9)",),
    ),
    Case(
        "memory_creep",
        "allocating 100 MB at a time until refused",
        Verdict(FULL, r"MemoryError"),
        cells=("hogs = []\nwhile True:\n    hogs.append(bytearray(100 * 10**6))",),
    ),
    Case(
        "fork_bomb",
        "os.fork() in an endless loop",
        Verdict(FULL, r"process limit \(64"),
        cells=(
            "import os, time\nchildren = 0\nwhile True:\n    if os.fork() == 0:\n"
            "        time.sleep(60)\n        os._exit(0)\n    children += 1",
        ),
        needs="pids",
    ),
    Case(
        "disk_filler",
        "writing a file until the disk is full",
        Verdict(FULL, r"No space left on device"),
        cells=(
            "block = b'0' * 10**7\nwith open('filler.bin', 'wb') as out:\n"
            "    while True:\n        out.write(block)",
        ),
    ),
    Case(
        "print_flood",
        "30 MB of printed text",
        Verdict(FULL),
        cells=("line = 'x' * 999\nfor _ in range(30_000):\n    print(line)",),
    ),
    Case(
        "giant_image",
        "a 40 MB image output claiming 100,000 x 100,000 pixels",
        Verdict(FULL),
        cells=(
            "import base64, struct\nfrom IPython.display import display\n"
            "head = b'\\x89PNG\\r\\n\\x1a\\n' + struct.pack('>I', 13) + b'IHDR' + "
            "struct.pack('>II', 100_000, 100_000)\n"
            "display({'image/png': base64.b64encode(head + bytes(40 * 10**6)).decode()}, raw=True)",
        ),
    ),
    # -- kernel death -----------------------------------------------------------------------
    Case(
        "os_exit",
        "os._exit(0) before the last cell",
        Verdict(FULL, r"cell 5 was skipped: the kernel died while running cell 5", stopped=False),
        before_estimate=True,
        cells=("import os\nos._exit(0)",),
    ),
    Case(
        "os_exit_in_last_cell",
        "os._exit(0) in the last cell, after every definition",
        Verdict(FULL, r"cell 6 was skipped: the kernel died while running cell 6", stopped=False),
        cells=("import os\nos._exit(0)",),
    ),
    Case(
        "three_fatal_cells",
        "three cells that each kill the kernel: more than the two replays",
        Verdict(0, r"the kernel died while running cell 7", stopped=True),
        before_estimate=True,
        cells=("import os\nos._exit(0)", "import os\nos._exit(1)", "import os\nos._exit(2)"),
    ),
    Case(
        "sys_exit",
        "sys.exit() (IPython turns it into an error)",
        Verdict(FULL, r"SystemExit"),
        cells=("import sys\nsys.exit('bye')",),
    ),
    Case(
        "segfault",
        "a segfault through ctypes",
        Verdict(FULL, r"cell 5 was skipped: the kernel died while running cell 5", stopped=False),
        before_estimate=True,
        cells=("import ctypes\nctypes.string_at(0)",),
    ),
    Case(
        "kills_process_group",
        "os.killpg(0, SIGKILL)",
        Verdict(FULL, r"cell 5 was skipped: the kernel died while running cell 5", stopped=False),
        before_estimate=True,
        cells=("import os, signal\nos.killpg(0, signal.SIGKILL)",),
    ),
    Case(
        "kills_parent",
        "SIGKILL to its parent (the sandbox's init, which ignores it)",
        Verdict(FULL),
        before_estimate=True,
        cells=("import os, signal\nos.kill(os.getppid(), signal.SIGKILL)",),
    ),
    Case(
        "deep_recursion",
        "unbounded recursion with the limit lifted",
        Verdict(FULL, r"cell 5 was skipped: (the kernel died|.*did not stop)", stopped=False),
        before_estimate=True,
        cells=(
            "import sys\nsys.setrecursionlimit(10**7)\ndef down(n):\n    return down(n + 1) + 1\ndown(0)",
        ),
    ),
    # -- escapes and snooping ---------------------------------------------------------------
    Case(
        "network",
        "connections to the internet and to the grader's loopback",
        Verdict(FULL, r"reached: \[\]"),
        cells=(
            "import socket\nreached = []\nfor host, port in (('pypi.org', 443), ('127.0.0.1', 22), ('10.0.0.1', 80)):\n"
            "    try:\n        socket.create_connection((host, port), timeout=2)\n        reached.append(host)\n"
            "    except OSError:\n        pass\nraise RuntimeError(f'reached: {reached}')",
        ),
    ),
    Case(
        "reads_course_files",
        "reading hidden tests, the rubric, the config, a classmate's notebook",
        Verdict(FULL, r"FileNotFoundError"),
        cells=(
            "leaks = {}\nfor path in ('{hidden}', '{rubric}', '{config}', '{other}', '{outside}'):\n"
            "    try:\n        leaks[path] = open(path).read()\n    except OSError as error:\n"
            "        leaks[path] = type(error).__name__\nraise RuntimeError(repr(leaks))",
        ),
    ),
    Case(
        "writes_outside",
        "writing into the course, /etc and the grader's package",
        Verdict(FULL, r"written: \[\]"),
        cells=(
            "written = []\nfor path in ('{rubric}', '/etc/dlgrader-was-here', '{grader}/__init__.py', '/dlgrader-root'):\n"
            "    try:\n        open(path, 'a').write('# owned')\n        written.append(path)\n"
            "    except OSError:\n        pass\nraise RuntimeError(f'written: {written}')",
        ),
    ),
    Case(
        "background_processes",
        "a double-forked daemon and a new session left running",
        Verdict(FULL),
        cells=(
            "import os, subprocess\nsubprocess.Popen(['sleep', '600'], start_new_session=True)\n"
            "if os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n        import time\n"
            "        time.sleep(600)\n    os._exit(0)",
        ),
    ),
    # -- tampering --------------------------------------------------------------------------
    Case(
        "patches_numpy",
        "np.allclose, np.all, array == always true, with a wrong scale",
        Verdict(6, r"must multiply every entry"),
        cells=(
            WRONG_SCALE,
            "np.allclose = lambda *a, **k: True\nnp.all = lambda *a, **k: True\n"
            "np.testing.assert_allclose = lambda *a, **k: None",
        ),
    ),
    Case(
        "patches_probes",
        "replaces the grader's kernel-side handler to forge answers",
        Verdict(6, r"must multiply every entry", flags=r"grader\.probes\.kernel\.handle"),
        cells=(
            WRONG_SCALE,
            "import grader.probes.kernel as k\nreal = k.handle\n"
            "def handle(request):\n    return real(request)\nk.handle = handle",
        ),
    ),
    Case(
        "always_equal",
        "add() returns an object equal to everything, scale one that lies about its class",
        Verdict(4, r"add\(2, 3\) returned", flags=r"AlwaysEqual that equals anything"),
        cells=(
            "class AlwaysEqual:\n    def __eq__(self, other):\n        return True\n"
            "    __hash__ = None\n    @property\n    def __class__(self):\n        return np.ndarray\n"
            "def add(a, b):\n    return AlwaysEqual()\n"
            "def scale(x, k):\n    return AlwaysEqual()",
        ),
    ),
    Case(
        "fake_results",
        "prints a results document and writes results.json",
        Verdict(6),
        cells=(
            WRONG_SCALE,
            "import json\nfake = {'schema_version': '1.0', 'score': {'points': 10, 'max_points': 10}}\n"
            "print(json.dumps(fake))\njson.dump(fake, open('results.json', 'w'))",
        ),
    ),
    Case(
        "wrong_types",
        "add returns a string, scale a list",
        Verdict(4, r"add\(2, 3\) returned '5'"),
        cells=(
            "def add(a, b):\n    return str(a + b)\ndef scale(x, k):\n    return (np.asarray(x) * k).tolist()",
        ),
    ),
    Case(
        "not_callables",
        "add and scale defined as numbers",
        Verdict(4, r"'int' object is not callable"),
        cells=("add = 5\nscale = 3.0",),
    ),
    # -- broken files -----------------------------------------------------------------------
    Case("invalid_json", "not JSON at all", Verdict(0, r"invalid JSON"), write=_text("{ not json")),
    Case("empty_file", "an empty file", Verdict(0, r"the file is empty"), write=_text("")),
    Case(
        "empty_notebook",
        "a notebook with no cells",
        Verdict(1, r"defines no 'add'"),
        write=_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})),
    ),
    Case("nbformat3", "an nbformat 3 notebook", Verdict(1, r"defines no 'add'"), write=_nbformat3),
    Case(
        "python_file",
        "a .py file renamed .ipynb",
        Verdict(0, r"not a notebook \(invalid JSON at line 1\)"),
        write=_text("def add(a, b):\n    return a + b\n"),
    ),
    Case(
        "binary_garbage",
        "invalid UTF-8 bytes",
        Verdict(0, r"not UTF-8 text"),
        write=_text(b"\xff\xfe\x00garbage\x80"),
    ),
    Case(
        "gzip_file",
        "a gzipped notebook",
        Verdict(0, r"a gzip archive, not a notebook"),
        write=_text(gzip.compress((TOY / "solutions" / "toy.ipynb").read_bytes())),
    ),
    Case(
        "zip_with_traversal",
        "a zip whose entries climb out with ../",
        Verdict(0, r"a zip archive, not a notebook"),
        write=_zip_traversal,
    ),
    Case(
        "duplicate_cell_ids",
        "every cell has the same id",
        Verdict(FULL),
        write=_edited(_duplicate_ids),
    ),
    Case(
        "missing_kernelspec",
        "a julia-1.9 kernelspec",
        Verdict(FULL),
        write=_edited(_missing_kernel),
    ),
    Case(
        "other_assignment",
        "a notebook made for lenet5",
        Verdict(FULL, flags=r"made for assignment 'lenet5'"),
        write=_edited(_other_assignment),
    ),
    Case(
        "deeply_nested_json",
        "JSON nested 100,000 levels deep",
        Verdict(0, r"nested too deeply"),
        write=_text("[" * 100_000 + "]" * 100_000),
    ),
    Case(
        "two_hundred_megabytes",
        "a 200 MB notebook",
        Verdict(0, r"the notebook is 191 MiB"),
        write=_huge,
    ),
]
