"""A batch of any lab against its parallel tested floor (issue 23's lenet5 and mlp_mnist).

    python bench/lab_batch.py lenet5 mlp_mnist [--count 10] [--workers 2] [--write]

bench/batch_scale.py measures backprop, whose tests bench/peers ports to plain code. For
other labs the floor runs the grader's own test files *inside* a plain kernel, after the
notebook, with the in-kernel bridge that ``check()`` uses (``grader.testing.local``):
the same test work, with no round trips, no sandbox and no grader process around it, as
Otter and nbgrader run their tests. Per lab:

1. ``count`` distinct submissions cycled from the lab's examples (a markdown cell each
   makes every file distinct).
2. The parallel tested floor: those notebooks, each followed by its tests, in plain
   kernels ``workers`` at a time, with the thread counts grading pins (1 by default), so
   the kernels do not fight over cores in one run and not the other. Measured just before
   and just after the batch and averaged, as bench/peers.py does: this VM's speed drifts
   by 20% over minutes, and a floor taken once carries all of that into the ratio.
3. ``grader batch --workers W`` on them, timed from launch to exit, with the grader's and
   the kernels' CPU; every score checked against the examples' EXPECTED.yaml.

``--write`` puts the table in docs/benchmarks.md (section ``lab-batch``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from unittest import mock

import nbformat
from batch_scale import GRADER
from benchlib import (
    EXAMPLES,
    ROOT,
    bare_execute,
    load,
    machine,
    prepared,
    table,
    timed_side_by_side,
    write_section,
)
from measured import run_measured

from grader import numerics
from grader.course import find_course
from grader.expectations import load_expectations
from grader.pipeline import data_tier, kernel_env

#: The last cell of a floor notebook: the lab's test files, run in this kernel. Its context
#: is grader.pipeline.grading_context's, written out: importing the pipeline (nbclient,
#: the runners) in every floor kernel would add work no plain kernel does.
IN_KERNEL_TESTS = """\
from pathlib import Path
from grader.course import find_course
from grader.notebook import names_used
from grader.testing.local import LocalBridge
from grader.testing.plugin import IN_KERNEL_ARGS, run_tests
import nbformat
_a = find_course(Path({root!r})).assignment({lab!r})
_tests = [t.partition("::")[0] for c in _a.rubric.criteria for t in c.tests]
_files = sorted({{_a.tests_root / t for t in _tests}})
_context = {{"tier": {tier!r}, "gpu_available": False, "mode": "grade",
    "interface_defaults": _a.config.interface.defaults(),
    "notebook_names": frozenset(names_used(nbformat.read({notebook!r}, as_version=4)))}}
_outcomes, _ = run_tests(_files, LocalBridge(_a.config.limits.request_timeout), _context,
    _a.tests_root, IN_KERNEL_ARGS)
print(len(_outcomes), "tests ran")
"""


def examples(lab: str) -> list[Path]:
    return sorted((EXAMPLES / lab).glob("*.ipynb"))


def make_submissions(lab: str, folder: Path, count: int) -> list[tuple[Path, Path]]:
    """``(submission, example it was made from)`` for ``count`` distinct notebooks."""
    found = examples(lab)
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    for index in range(count):
        example = found[index % len(found)]
        nb = nbformat.read(example, as_version=4)
        nb.cells.append(nbformat.v4.new_markdown_cell(f"Submitted by student {index:02d}."))
        path = folder / f"student{index:02d}.ipynb"
        nbformat.write(nb, path)
        made.append((path, example))
    return made


def tested_notebook(lab: str, example: Path, tier: str | None) -> nbformat.NotebookNode:
    nb = prepared(example, lab)
    code = IN_KERNEL_TESTS.format(root=str(ROOT), lab=lab, tier=tier, notebook=str(example))
    nb.cells.append(nbformat.v4.new_code_cell(code))
    return nb


def _tested_once(job: tuple[str, str, str | None]) -> float:
    lab, example, tier = job
    assignment = find_course(ROOT).assignment(lab)
    data = assignment.data_folder
    seconds, nb = bare_execute(
        tested_notebook(lab, Path(example), tier), files=[data] if data else []
    )
    last = nb.cells[-1].get("outputs", [])
    if not any("tests ran" in str(o.get("text", "")) for o in last):
        raise RuntimeError(f"the tests did not run after {example}: {last}")
    return seconds


def parallel_floor(lab: str, made: list[tuple[Path, Path]], workers: int) -> float:
    """Wall seconds for the tested notebooks in plain kernels, ``workers`` at a time."""
    tier = data_tier(find_course(ROOT).assignment(lab))
    jobs = [(lab, str(example), tier) for _, example in made]
    return timed_side_by_side(_tested_once, jobs, workers)


def pinned_environment(lab: str) -> dict[str, str]:
    """What a grading kernel of ``lab`` gets for threads and data, for the plain kernels."""
    assignment = find_course(ROOT).assignment(lab)
    env = numerics.kernel_variables(assignment.config.numerics)
    return {**env, **kernel_env(data_tier(assignment))}


def pinned_floor(lab: str, made: list[tuple[Path, Path]], workers: int) -> float:
    """The parallel tested floor with grading's thread counts and data tier set."""
    with mock.patch.dict(os.environ, pinned_environment(lab)):
        print(f"{lab}: {len(made)} tested notebooks, {workers} plain kernels", file=sys.stderr)
        return parallel_floor(lab, made, workers)


def measure(lab: str, count: int, workers: int) -> dict:
    expected = load_expectations(EXAMPLES / lab).examples
    with tempfile.TemporaryDirectory(prefix="bench-lab-") as folder:
        made = make_submissions(lab, Path(folder) / "subs", count)
        floor_before = pinned_floor(lab, made, workers)
        out = Path(folder) / "out"
        argv = [*GRADER, "batch", str(Path(folder) / "subs"), "-a", lab, "--course", str(ROOT)]
        argv += ["-o", str(out), "--workers", str(workers)]
        print(f"{lab}: grader batch --workers {workers}", file=sys.stderr)
        run = run_measured(argv)
        if run.returncode != 0:
            raise RuntimeError(f"grader batch exited {run.returncode}:\n{run.output[-3000:]}")
        floor_after = pinned_floor(lab, made, workers)
        floor_s = (floor_before + floor_after) / 2
        wrong = []
        for path, example in made:
            data = json.loads((out / path.stem / "results.json").read_text(encoding="utf-8"))
            score = expected[example.stem].score
            low, high = (score, score) if isinstance(score, int | float) else (score.min, score.max)
            got = data["score"]["points"]
            if data.get("grading_error") or not low - 1e-9 <= got <= high + 1e-9:
                wrong.append(f"{path.stem} ({example.stem}): {got}")
        shutil.rmtree(out, ignore_errors=True)
    row = {
        "lab": lab,
        "count": count,
        "workers": workers,
        "wall_s": run.wall_s,
        "floor_s": floor_s,
        "floor_before_s": floor_before,
        "floor_after_s": floor_after,
        "ratio": run.wall_s / floor_s,
        "grader_cpu_s": run.cpu_s["grader"] / count,
        "kernel_cpu_s": run.cpu_s["kernel"] / count,
        "right": count - len(wrong),
        "wrong": wrong,
    }
    print(json.dumps(row), file=sys.stderr)
    return row


def report(rows: list[dict], argv: str, started_load: str) -> str:
    body = [
        [
            r["lab"],
            r["count"],
            r["workers"],
            f"{r['wall_s']:.1f}",
            f"{r['floor_s']:.1f} ({r['floor_before_s']:.1f} / {r['floor_after_s']:.1f})",
            f"**{r['ratio']:.2f}x**",
            f"{r['grader_cpu_s']:.2f} / {r['kernel_cpu_s']:.2f}",
            f"{r['right']}/{r['count']}",
        ]
        for r in rows
    ]
    header = ["lab", "N", "workers", "wall s", "parallel tested floor s (before / after)"]
    header += ["wall / floor", "CPU per submission s, grader / kernels", "scores as EXPECTED"]
    return (
        "## A batch of a framework lab against its floor (issue 23)\n\n"
        f"`python bench/lab_batch.py {argv}` on {machine()}; load average at the start "
        f"{started_load}, at the end {load()}. One run per row.\n\n"
        "Submissions cycled from the lab's examples. **parallel tested floor** = the same "
        "notebooks, each followed by the lab's own test files run inside the same plain "
        "kernel (the in-kernel bridge of `check()`: no round trips, no sandbox), W plain "
        "kernels at a time with grading's thread counts, measured just before and just "
        "after the batch and averaged (this VM's speed drifts over minutes); **wall** = "
        "`grader batch --workers W` from launch to exit.\n\n" + table(header, body)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("labs", nargs="+")
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    started_load = load()
    rows = [measure(lab, args.count, args.workers) for lab in args.labs]
    markdown = report(rows, " ".join(sys.argv[1:]), started_load)
    print(markdown)
    if args.write:
        write_section("lab-batch", markdown)


if __name__ == "__main__":
    main()
