"""Build and drive the peers (Otter-Grader, nbgrader) for bench/peers.py.

Both live in their own virtualenv (``bench/peers/setup.sh``, default /work/peers-venv)
and are run only as commands, the way an instructor runs them. Their tests are the
backprop lab's, ported in their formats:

* Otter: ``bench/peers/otter/tests/*.py``, one exception-format test file per criterion of
  ``rubrics/backprop.yaml``, zipped by ``otter generate`` with the support files.
* nbgrader: the course folder ``bench/peers/nbgrader`` (``source/backprop/backprop.ipynb``:
  the reference solution with its answer cells marked and one autograder test cell per
  criterion, hidden tests between ``### BEGIN HIDDEN TESTS`` markers). A run copies it to
  scratch, releases it with ``nbgrader generate_assignment`` and files each submission in
  ``submitted/STUDENT/backprop/`` as a student would have returned the released notebook.

Both call ``bench/peers/support/backprop_checks.py`` (dlgrader's checks ported to run on
the notebook's globals), which sits beside each notebook as a support file, with a
stand-in ``grader/datasets.py`` for the notebook's own ``from grader.datasets import ...``.
"""

from __future__ import annotations

import copy
import csv
import json
import os
import shutil
import subprocess
from pathlib import Path

import nbformat
from benchlib import ROOT
from measured import Measured, run_measured

PEERS = ROOT / "bench" / "peers"
SUPPORT = PEERS / "support"
OTTER = PEERS / "otter"
NBGRADER = PEERS / "nbgrader"
SOURCE_NOTEBOOK = NBGRADER / "source" / "backprop" / "backprop.ipynb"
VENV = Path(os.environ.get("PEERS_VENV", "/work/peers-venv"))


def peer(command: str) -> str:
    path = VENV / "bin" / command
    if not path.exists():
        raise SystemExit(f"{path} is missing: run `bash bench/peers/setup.sh` first")
    return str(path)


def peer_env() -> dict[str, str]:
    """The peers' environment: their venv first on PATH, nothing of ours on PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{VENV / 'bin'}:{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(VENV)
    return env


def support_files() -> list[Path]:
    return [SUPPORT / "backprop_checks.py", SUPPORT / "grader"]


def _copy_into(folder: Path, paths: list[Path]) -> None:
    for path in paths:
        target = folder / path.name
        if path.is_dir():
            shutil.copytree(path, target, dirs_exist_ok=True, ignore=_no_cache)
        else:
            shutil.copy(path, target)


def _no_cache(_folder: str, names: list[str]) -> list[str]:
    return [n for n in names if n == "__pycache__"]


def _run(argv: list[str], cwd: Path | None = None) -> Measured:
    """Run a peer's command in its environment, sampled; raise with its output if it fails."""
    done = run_measured(argv, cwd=cwd, env=peer_env())
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:3])} failed:\n{done.output[-3000:]}")
    return done


# -- Otter ----------------------------------------------------------------------------------------


def build_otter(work: Path) -> Path:
    """``otter generate``: the autograder zip (tests, config, support files)."""
    folder = work / "otter-build"
    folder.mkdir(parents=True, exist_ok=True)
    _copy_into(folder, support_files())
    zip_path = work / "autograder.zip"
    argv = [peer("otter"), "generate", "-t", str(OTTER / "tests")]
    argv += ["-c", str(OTTER / "otter_config.json"), "-r", str(OTTER / "requirements.txt")]
    argv += ["--no-environment", "-o", str(zip_path), "backprop_checks.py", "grader"]
    _run(argv, cwd=folder)
    return zip_path


def otter_score(results_json: Path) -> float:
    """The total of a Gradescope-format results.json (Otter's per-question scores)."""
    data = json.loads(results_json.read_text(encoding="utf-8"))
    return float(sum(t.get("score", 0) for t in data["tests"] if "max_score" in t))


def otter_run(zip_path: Path, notebook: Path, out: Path) -> tuple[Measured, float]:
    """One ``otter run`` (no container): the run and the total score."""
    out.mkdir(parents=True, exist_ok=True)
    argv = [peer("otter"), "run", "-a", str(zip_path), "-o", str(out), "--no-logo", str(notebook)]
    return _run(argv), otter_score(out / "results.json")


def last_line(text: str) -> str:
    """The last meaningful line of a failure's output (the error, not the traceback)."""
    text = text.replace("The content of stderr is ", "")
    lines = [line.strip().strip("'") for line in text.splitlines()]
    lines = [line for line in lines if len(line) > 3 and not line.startswith(("File ", "^"))]
    errors = [line for line in lines if any(w in line for w in ("rror", "xception", "unknown"))]
    return (errors or lines or ["(no output)"])[-1][:300]


def docker_engine() -> str | None:
    """The engine's version if a Docker engine answers, else None (``otter grade`` needs one)."""
    if shutil.which("docker") is None:
        return None
    try:
        done = subprocess.run(
            ["docker", "info", "--format", "{{.ServerVersion}}"],
            capture_output=True,
            text=True,
            timeout=20,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    version = done.stdout.strip()
    return version if done.returncode == 0 and version else None


def otter_grade(
    zip_path: Path, submissions: Path, out: Path, containers: int, build_first: bool = True
) -> tuple[float, Measured, dict[str, float]]:
    """``otter grade`` in Docker: seconds for the image build, the grading run, the scores.

    Containers are the engine's children, not this process's: the run's CPU and memory
    cover only Otter's own process, and its kernels show no peaks.

    The image (``otter-grade:backprop``, conda and the requirements) is built by the first
    call and cached by Docker; with ``build_first`` one single-submission run builds it
    before the timed run, so the time is grading, with the build reported apart.
    """
    build_s = 0.0
    argv = [peer("otter"), "grade", "-n", "backprop", "-a", str(zip_path), "--ext", "ipynb"]
    argv += ["--timeout", "600"]
    if build_first:
        one = out / "build"
        one.mkdir(parents=True, exist_ok=True)
        first = sorted(submissions.glob("*.ipynb"))[0]
        build_s = _run([*argv, "-o", str(one), "--containers", "1", str(first)]).wall_s
    out.mkdir(parents=True, exist_ok=True)
    run = _run([*argv, "-o", str(out), "--containers", str(containers), str(submissions)])
    scores = {}
    with (out / "final_grades.csv").open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row.get("file") and row["file"] != "points-per-question":
                scores[Path(row["file"]).stem] = float(row["total_points_earned"])
    return build_s, run, scores


# -- nbgrader -------------------------------------------------------------------------------------

#: criterion id -> (points, hidden, what it ports); rubrics/backprop.yaml's order.
NBGRADER_CELLS = (
    ("shapes", 3, False, "public/test_basics.py: init_params and forward shapes"),
    ("basic_values", 2, False, "public/test_basics.py: sigmoid and loss by hand"),
    ("sigmoid", 3, True, "hidden/test_building_blocks.py::test_sigmoid_values"),
    ("sigmoid_stable", 4, True, "hidden/test_building_blocks.py::test_sigmoid_no_overflow"),
    ("init_params", 4, True, "hidden/test_building_blocks.py: init_params shapes, seeding"),
    ("forward", 5, True, "hidden/test_network.py::test_forward_matches_reference"),
    ("loss", 2, True, "hidden/test_building_blocks.py::test_loss_matches_mse"),
    ("gradients", 11, True, "hidden/test_network.py: gradient check, exact gradients"),
    ("analytic_backward", 3, True, "hidden/test_network.py::test_backward_is_analytic"),
    ("train_step", 4, True, "hidden/test_training.py::test_train_takes_gradient_steps"),
    ("loss_decreases", 2, True, "hidden/test_training.py::test_training_loss_decreases"),
    ("xor_solved", 5, True, "hidden/test_training.py::test_xor_solved (banded)"),
    ("loss_curve", 2, True, "hidden/test_training.py::test_loss_curve_recorded"),
)


def _test_source(criterion: str, hidden: bool, what: str) -> str:
    lines = [f"# Criterion `{criterion}` of rubrics/backprop.yaml: {what}."]
    if criterion == "xor_solved":
        lines.append("# Partial credit: the value this cell shows is the points (the bands).")
        body = ["import backprop_checks", "", "backprop_checks.xor_points(globals())"]
    else:
        body = ["import backprop_checks", "", f'backprop_checks.require(globals(), "{criterion}")']
    if hidden:
        body = ["### BEGIN HIDDEN TESTS", *body, "### END HIDDEN TESTS"]
    return "\n".join(lines + body)


def make_nbgrader_source() -> Path:
    """Write the nbgrader source notebook from the reference solution (run when it changes)."""
    nb = nbformat.read(ROOT / "solutions" / "backprop.ipynb", as_version=4)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and "BEGIN SOLUTION" in cell.source:
            cell.metadata["nbgrader"] = {
                "grade": False,
                "grade_id": f"answer_{index:02d}",
                "locked": False,
                "schema_version": 3,
                "solution": True,
                "task": False,
            }
    nb.cells.append(nbformat.v4.new_markdown_cell("## Autograder tests"))
    for criterion, points, hidden, what in NBGRADER_CELLS:
        cell = nbformat.v4.new_code_cell(_test_source(criterion, hidden, what))
        cell.metadata["nbgrader"] = {
            "grade": True,
            "grade_id": f"test_{criterion}",
            "locked": True,
            "points": points,
            "schema_version": 3,
            "solution": False,
            "task": False,
        }
        nb.cells.append(cell)
    for cell in nb.cells:
        cell.pop("id", None)
    nb.nbformat_minor = 4
    SOURCE_NOTEBOOK.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, SOURCE_NOTEBOOK)
    return SOURCE_NOTEBOOK


def build_nbgrader(work: Path, submissions: list[Path]) -> Path:
    """A scratch course: released, with every submission filed as its student returned it."""
    course = work / "nbgrader"
    shutil.copytree(NBGRADER, course, ignore=_no_cache)
    _copy_into(course / "source" / "backprop", support_files())
    _run([peer("nbgrader"), "generate_assignment", "backprop", "--force"], cwd=course)
    release = nbformat.read(course / "release" / "backprop" / "backprop.ipynb", as_version=4)
    split = next(i for i, c in enumerate(release.cells) if "Autograder tests" in c.source)
    body, tests = release.cells[:split], release.cells[split:]
    for path in submissions:
        nb = nbformat.read(path, as_version=4)
        for index, cell in enumerate(nb.cells[: len(body)]):
            meta = body[index].get("metadata", {}).get("nbgrader")
            if meta is not None and body[index].cell_type == cell.cell_type:
                cell.metadata["nbgrader"] = copy.deepcopy(meta)
        nb.cells += copy.deepcopy(tests)
        folder = course / "submitted" / path.stem / "backprop"
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / "backprop.ipynb")
    return course


def nbgrader_autograde(course: Path) -> Measured:
    """``nbgrader autograde backprop`` over every submission (serially, as nbgrader does)."""
    return _run([peer("nbgrader"), "autograde", "backprop", "--force"], cwd=course)


def nbgrader_scores(course: Path) -> dict[str, float]:
    """Each student's autograded score, from nbgrader's gradebook."""
    script = (
        "import json, sys\n"
        "from nbgrader.api import Gradebook\n"
        "with Gradebook('sqlite:///gradebook.db') as gb:\n"
        "    a = gb.find_assignment('backprop')\n"
        "    print(json.dumps({s.student.id: s.score for s in a.submissions}))\n"
    )
    done = _run([peer("python"), "-c", script], cwd=course)
    line = [x for x in done.output.splitlines() if x.startswith("{")][-1]
    return {k: float(v) for k, v in json.loads(line).items()}
