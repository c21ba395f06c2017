"""Perturbation check: every correct notebook gets full marks in every cell of a matrix.

Grades each lab's reference solution and example submissions through the real pipeline
under a matrix of seeds (``numerics.seed``), kernel threads, instruction-set levels
(AVX2; AVX-512 where the CPU has it; each library's native choice) and, for the Keras and
TensorFlow labs, TensorFlow's oneDNN on and off. It then checks, in every cell:

* a correct notebook (the solution, and each example whose EXPECTED.yaml lists nothing to
  fail) gets full marks, and its banded numbers' margin to the full-credit edge;
* a wrong example fails each of its ``must_fail`` criteria and nothing outside
  ``must_fail`` + ``may_also_fail``.

Results: a table per lab in docs/calibration.md (``--write``), with the machine named.

    python bench/robustness.py lenet5 backprop --seeds 0 1 2 --threads 1 2
    python bench/robustness.py --all --quick        # one seed, default and AVX2 only
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from benchlib import EXAMPLES, ROOT, chosen_labs, machine, write_section

from grader.config import Numerics
from grader.course import Assignment, find_course
from grader.expectations import load_expectations
from grader.numerics import cpu_flags
from grader.pipeline import grade

CALIBRATION = ROOT / "docs" / "calibration.md"
TF_LABS = ("keras", "tensorflow")


@dataclass(frozen=True)
class Cell:
    seed: int
    threads: int
    isa: str
    tf_onednn: bool | None

    def label(self) -> str:
        onednn = "" if self.tf_onednn is None else f" onednn={'on' if self.tf_onednn else 'off'}"
        return f"seed={self.seed} threads={self.threads} isa={self.isa}{onednn}"


@dataclass
class Verdict:
    notebook: str
    cell: Cell
    ok: bool
    score: float
    problems: list[str]
    margin: float | None
    seconds: float


def matrix(framework: str, seeds: list[int], threads: list[int], isas: list[str]) -> list[Cell]:
    """Every combination; oneDNN varies only where TensorFlow is the framework."""
    onednn: list[bool | None] = [True, False] if framework in TF_LABS else [None]
    return [Cell(*combo) for combo in itertools.product(seeds, threads, isas, onednn)]


def with_numerics(assignment: Assignment, cell: Cell) -> Assignment:
    numerics = Numerics(
        seed=cell.seed, threads=cell.threads, isa=cell.isa, tf_onednn=cell.tf_onednn
    )
    config = assignment.config.model_copy(update={"numerics": numerics})
    return Assignment(course=assignment.course, config=config, folder=assignment.folder)


def band_margin(result, rubric) -> float | None:
    """Smallest distance of a banded number above its full-credit edge (negative: below)."""
    margins = []
    for criterion in rubric.criteria:
        if criterion.bands is None:
            continue
        bands = criterion.bands.get(result.data_tier or "offline") or []
        full = [b for b in bands if b.fraction >= 1.0]
        value = next(
            (c.measured.get(criterion.score_from) for c in result.criteria if c.id == criterion.id),
            None,
        )
        if full and isinstance(value, int | float) and full[0].at_least is not None:
            margins.append(float(value) - full[0].at_least)
    return min(margins) if margins else None


def judge(assignment: Assignment, path: Path, cell: Cell, expected) -> Verdict:
    started = time.monotonic()
    result = grade(with_numerics(assignment, cell), path).result
    failing = {c.id for c in result.criteria if c.status not in ("passed", "needs_gpu", "pending")}
    score = sum(c.points for c in result.criteria if not c.requires_gpu)
    problems = [result.grading_error] if result.grading_error else []
    problems += expected.problems(failing, score, full_marks(assignment))
    return Verdict(
        notebook=path.stem,
        cell=cell,
        ok=not problems,
        score=score,
        problems=problems,
        margin=band_margin(result, assignment.rubric),
        seconds=time.monotonic() - started,
    )


def full_marks(assignment: Assignment) -> float:
    return sum(c.points for c in assignment.rubric.criteria if not c.requires_gpu)


def notebooks(assignment: Assignment):
    """The solution (a correct notebook) and every example, with what each should get."""
    from grader.expectations import Expectation

    expectations = load_expectations(EXAMPLES / assignment.name)
    solution = ROOT / "solutions" / f"{assignment.name}.ipynb"
    yield solution, Expectation(score=full_marks(assignment))
    for stem, expected in expectations.examples.items():
        yield EXAMPLES / assignment.name / f"{stem}.ipynb", expected


def run_lab(name: str, args: argparse.Namespace) -> list[Verdict]:
    assignment = find_course(ROOT).assignment(name)
    cells = matrix(assignment.config.framework, args.seeds, args.threads, args.isa)
    verdicts = []
    for path, expected in notebooks(assignment):
        if args.correct_only and not expected.correct:
            continue
        for cell in cells:
            verdict = judge(assignment, path, cell, expected)
            verdicts.append(verdict)
            mark = "ok" if verdict.ok else "WRONG: " + "; ".join(verdict.problems)
            print(f"{name:16} {path.stem:34} {cell.label():40} {verdict.score:6g} {mark}")
            sys.stdout.flush()
    return verdicts


def table(name: str, verdicts: list[Verdict]) -> str:
    rows = [
        f"### {name}",
        "",
        "| notebook | cells | all as expected | scores | least band margin | s per grading |",
        "|---|---|---|---|---|---|",
    ]
    for notebook in dict.fromkeys(v.notebook for v in verdicts):
        mine = [v for v in verdicts if v.notebook == notebook]
        scores = sorted({v.score for v in mine})
        margins = [v.margin for v in mine if v.margin is not None]
        failed = [v.cell.label() for v in mine if not v.ok]
        rows.append(
            f"| `{notebook}` | {len(mine)} | "
            + ("yes" if not failed else f"**no**: {', '.join(failed)}")
            + f" | {', '.join(f'{s:g}' for s in scores)} | "
            + (f"{min(margins):+.3f}" if margins else "-")
            + f" | {sum(v.seconds for v in mine) / len(mine):.1f} |"
        )
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("labs", nargs="*", help="assignment names (default: --all)")
    parser.add_argument("--all", action="store_true", help="every assignment of the course")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--isa", nargs="+", default=None, help="default: avx2, avx512, native")
    parser.add_argument("--quick", action="store_true", help="seed 0, 1 thread, avx2 and native")
    parser.add_argument("--correct-only", action="store_true", help="skip the wrong examples")
    parser.add_argument("--write", action="store_true", help="write docs/calibration.md")
    args = parser.parse_args()
    if args.isa is None:
        args.isa = ["avx2", "native"] + (["avx512"] if "avx512f" in cpu_flags() else [])
    if args.quick:
        args.seeds, args.threads, args.isa = [0], [1], ["avx2", "native"]
    labs = chosen_labs(args.labs, args.all)
    if not labs:
        parser.error("name at least one lab, or --all")
    sections, wrong = [], 0
    for name in labs:
        verdicts = run_lab(name, args)
        wrong += sum(not v.ok for v in verdicts)
        sections.append(table(name, verdicts))
    report = (
        f"**Machine:** {machine()}. Matrix: seeds {args.seeds}, threads {args.threads}, "
        f"instruction sets {args.isa} (TensorFlow labs also oneDNN on and off).\n\n"
        + "\n\n".join(sections)
    )
    print(report)
    if args.write:
        write_section("robustness", report, CALIBRATION)
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
