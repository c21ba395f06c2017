"""Perturbation check: every correct notebook gets full marks in every cell of a matrix.

Grades each lab's reference solution and example submissions through the real pipeline
under a matrix of seeds (``numerics.seed``), kernel threads, instruction-set levels
(AVX2; AVX-512 where the CPU has it; each library's native choice) and, for the Keras and
TensorFlow labs, TensorFlow's oneDNN on and off. It then checks, in every cell:

* a correct notebook (the solution, and each example whose EXPECTED.yaml lists nothing to
  fail) gets full marks, and its banded numbers' margin to the full-credit edge;
* a wrong example fails each of its ``must_fail`` criteria and nothing outside
  ``must_fail`` + ``may_also_fail``.

Every verdict is appended to ``bench/robustness-verdicts.jsonl`` as it is reached, keyed by
the notebook's and the lab's files (tests, rubric, assignment.yaml) by hash. A later run
skips a cell already recorded for the same files, so the matrix (hours on two cores) can be
filled over several sittings and a changed lab is graded again. ``--write`` renders the
record of the chosen labs into docs/calibration.md, with the machine named.

    python bench/robustness.py lenet5 backprop --seeds 0 1 2 --threads 1 2
    python bench/robustness.py --all --threads 1          # one-thread cells only
    python bench/robustness.py --all --threads 1 --reverse  # beside it, on a second core
    python bench/robustness.py --all --write --report-only  # tables from the record
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from benchlib import EXAMPLES, ROOT, chosen_labs, cpu_model, machine, write_section

from grader.config import Numerics
from grader.course import Assignment, find_course
from grader.expectations import load_expectations
from grader.numerics import cpu_flags
from grader.pipeline import grade

CALIBRATION = ROOT / "docs" / "calibration.md"
RECORD = ROOT / "bench" / "robustness-verdicts.jsonl"
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
    lab: str
    notebook: str
    cell: Cell
    ok: bool
    score: float
    problems: list[str]
    margin: float | None
    seconds: float
    correct: bool = False
    files: str = ""  # hash of the notebook and the lab's files this verdict holds for
    cpu: str = ""

    def key(self) -> tuple[str, str, str, str]:
        return (self.lab, self.notebook, self.files, self.cell.label())

    def line(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_line(cls, line: str) -> Verdict:
        data = json.loads(line)
        data["cell"] = Cell(**data["cell"])
        return cls(**data)


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


def files_hash(assignment: Assignment, notebook: Path) -> str:
    """What a verdict depends on besides the grader: the notebook and the lab's own files."""
    lab = [assignment.folder / "assignment.yaml", ROOT / "rubrics" / f"{assignment.name}.yaml"]
    lab += sorted((assignment.folder / "tests").rglob("*.py"))
    digest = hashlib.sha256()
    for path in [notebook, *lab]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def judge(assignment: Assignment, path: Path, cell: Cell, expected, files: str) -> Verdict:
    started = time.monotonic()
    result = grade(with_numerics(assignment, cell), path).result
    failing = {c.id for c in result.criteria if c.status not in ("passed", "needs_gpu", "pending")}
    score = sum(c.points for c in result.criteria if not c.requires_gpu)
    problems = [result.grading_error] if result.grading_error else []
    problems += expected.problems(failing, score, full_marks(assignment))
    return Verdict(
        lab=assignment.name,
        notebook=path.stem,
        cell=cell,
        ok=not problems,
        score=score,
        problems=problems,
        margin=band_margin(result, assignment.rubric),
        seconds=time.monotonic() - started,
        correct=expected.correct,
        files=files,
        cpu=cpu_model(),
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


def recorded(path: Path = RECORD) -> dict[tuple[str, str, str, str], Verdict]:
    """The record so far; a later verdict for the same key replaces an earlier one."""
    if not path.exists():
        return {}
    verdicts = (Verdict.from_line(line) for line in path.read_text().splitlines() if line)
    return {v.key(): v for v in verdicts}


def run_lab(name: str, args: argparse.Namespace, record: dict) -> int:
    """Grade the cells of this lab not yet recorded; returns how many were graded."""
    assignment = find_course(ROOT).assignment(name)
    cells = matrix(assignment.config.framework, args.seeds, args.threads, args.isa)
    graded = 0
    order = -1 if args.reverse else 1
    for path, expected in list(notebooks(assignment))[::order]:
        if args.correct_only and not expected.correct:
            continue
        files = files_hash(assignment, path)
        for cell in cells[::order]:
            if not args.again:
                # Another run may have graded it meanwhile (one forward, one --reverse).
                record.update(recorded(args.record))
                if (name, path.stem, files, cell.label()) in record:
                    continue
            verdict = judge(assignment, path, cell, expected, files)
            record[verdict.key()] = verdict
            with args.record.open("a") as out:
                out.write(verdict.line() + "\n")
            graded += 1
            mark = "ok" if verdict.ok else "WRONG: " + "; ".join(verdict.problems)
            print(f"{name:16} {path.stem:34} {cell.label():40} {verdict.score:6g} {mark}")
            sys.stdout.flush()
    return graded


def current(name: str, record: dict) -> list[Verdict]:
    """Recorded verdicts that hold for this lab's files and notebooks as they are now."""
    assignment = find_course(ROOT).assignment(name)
    hashes = {path.stem: files_hash(assignment, path) for path, _ in notebooks(assignment)}
    return [v for v in record.values() if v.lab == name and hashes.get(v.notebook) == v.files]


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
        margins = [v.margin for v in mine if v.margin is not None and v.correct]
        failed = [v.cell.label() for v in mine if not v.ok]
        rows.append(
            f"| `{notebook}`{' (correct)' if mine[0].correct else ''} | {len(mine)} | "
            + ("yes" if not failed else f"**no**: {', '.join(failed)}")
            + f" | {', '.join(f'{s:g}' for s in scores)} | "
            + (f"{min(margins):+.3f}" if margins else "-")
            + f" | {sum(v.seconds for v in mine) / len(mine):.1f} |"
        )
    return "\n".join(rows)


def varied(verdicts: list[Verdict], attribute: str) -> str:
    return ", ".join(str(x) for x in sorted({getattr(v.cell, attribute) for v in verdicts}))


def summary(held: dict[str, list[Verdict]]) -> str:
    """One row per lab: how much of the matrix is recorded, and whether all of it held."""
    rows = [
        "| lab | notebooks | gradings | cells per notebook | seeds | threads | isa | as expected |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, mine in held.items():
        if not mine:
            rows.append(f"| {name} | - | 0 | - | - | - | - | not run |")
            continue
        per = {v.notebook: 0 for v in mine}
        for v in mine:
            per[v.notebook] += 1
        wrong = sum(not v.ok for v in mine)
        every = len(list(notebooks(find_course(ROOT).assignment(name))))
        rows.append(
            f"| {name} | {len(per)} of {every} | {len(mine)} | "
            f"{min(per.values())}-{max(per.values())} | "
            f"{varied(mine, 'seed')} | {varied(mine, 'threads')} | {varied(mine, 'isa')} | "
            + ("yes" if not wrong else f"**{wrong} not**")
            + " |"
        )
    return "\n".join(rows)


def display(path: Path) -> str:
    path = path.resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("labs", nargs="*", help="assignment names (default: --all)")
    parser.add_argument("--all", action="store_true", help="every assignment of the course")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--isa", nargs="+", default=None, help="default: avx2, avx512, native")
    parser.add_argument("--quick", action="store_true", help="seed 0, 1 thread, avx2 and native")
    parser.add_argument("--correct-only", action="store_true", help="skip the wrong examples")
    parser.add_argument("--again", action="store_true", help="grade recorded cells again")
    parser.add_argument(
        "--reverse",
        action="store_true",
        help="last notebook and cell first: a second run beside a first one meets it midway",
    )
    parser.add_argument("--report-only", action="store_true", help="grade nothing")
    parser.add_argument("--record", type=Path, default=RECORD, help="the JSONL record")
    parser.add_argument("--write", action="store_true", help="write docs/calibration.md")
    args = parser.parse_args()
    if args.isa is None:
        args.isa = ["avx2", "native"] + (["avx512"] if "avx512f" in cpu_flags() else [])
    if args.quick:
        args.seeds, args.threads, args.isa = [0], [1], ["avx2", "native"]
    labs = chosen_labs(args.labs, args.all)
    if not labs:
        parser.error("name at least one lab, or --all")
    record = recorded(args.record)
    if not args.report_only:
        for name in labs:
            run_lab(name, args, record)
    held = {name: current(name, record) for name in labs}
    wrong = sum(not v.ok for mine in held.values() for v in mine)
    report = (
        f"**Machine:** {machine()}. Record: `{display(args.record)}` "
        "(every cell graded so far for the labs' present files).\n\n"
        + summary(held)
        + "\n\n"
        + "\n\n".join(table(name, mine) for name, mine in held.items() if mine)
    )
    print(report)
    if args.write:
        write_section("robustness", report, CALIBRATION)
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
