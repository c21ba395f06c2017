"""dlgrader against Otter-Grader and nbgrader on the same backprop submissions, one run.

    bash bench/peers/setup.sh                      # once: the peers' own venv, pinned
    python bench/peers.py [--count 10 40] [--write]

The same ``count`` submissions (made from the backprop examples as in
bench/batch_scale.py) are graded by:

* dlgrader: ``grader batch --workers 1`` and ``--workers 2``;
* Otter-Grader: ``otter run`` in a loop, one process per submission (no container), and,
  where a Docker engine answers, ``otter grade --containers N`` (one container each);
* nbgrader: ``nbgrader autograde`` over the course's ``submitted/`` folder (serial: it has
  no parallel mode).

Each peer grades with the lab's tests ported to its own format (bench/peer_setup.py) and
must give every submission the score dlgrader gives it; the table says whether it did.
One-off preparation (Otter's zip and Docker image, nbgrader's release) is timed apart.
The floor is bench/batch_scale.py's: the sum of bare nbclient execution times divided by
the parallelism, measured just before and just after the 2-worker run and averaged; the
tested notebooks are also timed two plain kernels at a time. nbgrader and ``otter run``
run straight after the 2-worker run and its second floor, the run they are held against;
the 1-worker run and the side-by-side timing come last. ``--write`` puts the table
in docs/benchmarks.md (section ``peers``).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import peer_setup
from batch_scale import results_of, run_batch
from benchlib import (
    example_floors,
    example_of,
    load,
    machine,
    make_submissions,
    table,
    tested_in_parallel,
    write_section,
)
from measured import Measured


def floor(count: int, repeat: int) -> tuple[float, float]:
    """Sums over the submissions of bare and of tested bare execution (benchlib)."""
    examples = sorted({example_of(i) for i in range(count)})
    floors = example_floors(examples, repeat)
    per = [example_of(i).name for i in range(count)]
    return sum(floors[n][0] for n in per), sum(floors[n][1] for n in per)


def bracketed(count: int, repeat: int, between) -> tuple[float, float, tuple[float, float]]:
    """The floors measured just before and just after ``between()`` (the 2-worker run),
    averaged: this VM's speed drifts by 15-30% over minutes, and a floor taken minutes
    away from the run it is compared with carries that drift into the ratio. Returns
    (bare, tested, (tested before, tested after))."""
    bare_before, tested_before = floor(count, repeat)
    between()
    bare_after, tested_after = floor(count, repeat)
    return (
        (bare_before + bare_after) / 2,
        (tested_before + tested_after) / 2,
        (tested_before, tested_after),
    )


@dataclass
class Outcome:
    """One tool's grading of the submissions: how it ran, and the scores it gave."""

    tool: str
    how: str
    parallel: int
    run: Measured
    scores: dict[str, float]
    prep_s: float = 0.0


def dlgrader(subs: Path, out: Path, workers: int) -> Outcome:
    run = run_batch(subs, out, workers)
    scores = {s: r["score"]["points"] for s, r in results_of(out).items()}
    return Outcome("dlgrader", f"`grader batch --workers {workers}`", workers, run, scores)


def otter_loop(zip_path: Path, subs: Path, out: Path, prep_s: float) -> Outcome:
    total, scores = None, {}
    for notebook in sorted(subs.glob("*.ipynb")):
        run, scores[notebook.stem] = peer_setup.otter_run(zip_path, notebook, out / notebook.stem)
        total = run if total is None else total.add(run)
    assert total is not None
    return Outcome("Otter-Grader", "`otter run` in a loop", 1, total, scores, prep_s)


def otter_containers(zip_path: Path, subs: Path, out: Path, containers: list[int]):
    """``otter grade`` rows where a Docker engine answers, and a note on what happened."""
    engine = peer_setup.docker_engine()
    if not engine:
        return [], "No Docker engine answered (`docker info`), so `otter grade` did not run."
    rows = []
    for index, count in enumerate(containers):
        print(f"otter grade, {count} container(s)", file=sys.stderr)
        try:
            build_s, run, scores = peer_setup.otter_grade(
                zip_path, subs, out / f"otter-grade-{count}", count, build_first=index == 0
            )
        except RuntimeError as exc:
            reason = peer_setup.last_line(str(exc))
            return rows, f"Docker {engine} answered, but `otter grade` could not run: {reason}"
        how = f"`otter grade --containers {count}`"
        rows.append(Outcome("Otter-Grader", how, count, run, scores, build_s))
    return rows, f"Docker {engine}: `otter grade` ran (CPU and memory of its containers not seen)."


def nbgrader(work: Path, subs: Path) -> Outcome:
    started = time.perf_counter()
    course = peer_setup.build_nbgrader(work, sorted(subs.glob("*.ipynb")))
    prep = time.perf_counter() - started
    run = peer_setup.nbgrader_autograde(course)
    scores = peer_setup.nbgrader_scores(course)
    return Outcome("nbgrader", "`nbgrader autograde`", 1, run, scores, prep)


def agreement(scores: dict[str, float], reference: dict[str, float]) -> str:
    same = sum(1 for s, p in reference.items() if abs(scores.get(s, -1.0) - p) < 1e-9)
    return "yes" if same == len(reference) else f"{same}/{len(reference)}"


def rows_of(
    outcomes: list[Outcome], count: int, bare: float, tested: float, side_by_side: dict[int, float]
) -> list[list[str]]:
    """Table rows; ``side_by_side`` maps a parallelism above 1 to the measured wall time of
    the tested notebooks in that many plain kernels at a time."""
    reference = outcomes[0].scores
    mine = {o.parallel: o.run.wall_s for o in outcomes if o.tool == "dlgrader"}
    rows = []
    for o in outcomes:
        wall, cpu = o.run.wall_s, o.run.cpu_s
        kernels = o.run.kernel_peaks_mb
        measured = side_by_side.get(o.parallel, tested / o.parallel)
        rows.append(
            [
                str(count),
                o.tool,
                o.how,
                str(o.parallel),
                f"{wall:.1f}",
                f"{wall / count:.2f}",
                f"**{wall / (bare / o.parallel):.2f}x**",
                f"{wall / (tested / o.parallel):.2f}x",
                f"{wall / measured:.2f}x",
                "1.00x" if o.tool == "dlgrader" else f"{wall / mine.get(o.parallel, mine[1]):.2f}x",
                f"{cpu['grader'] / count:.2f} / {cpu['kernel'] / count:.2f}",
                f"{o.run.grader_peak_mb:.0f} / {max(kernels) if kernels else 0:.0f}",
                f"{o.prep_s:.1f}" if o.prep_s else "-",
                agreement(o.scores, reference),
            ]
        )
    return rows


def compare(count: int, args: argparse.Namespace) -> tuple[str, list[list[str]]]:
    """Every tool on ``count`` submissions: (the floors' and Docker's note, table rows)."""
    out = args.out / str(count)
    subs = out / "submissions"
    make_submissions(subs, count)
    outcomes = []

    def two_workers() -> None:
        print(f"{count}: dlgrader, 2 workers", file=sys.stderr)
        outcomes.append(dlgrader(subs, out / "dlgrader-2", 2))

    bare_sum, tested_sum, (tested_before, tested_after) = bracketed(
        count, args.floor_repeat, two_workers
    )
    # The peers straight after: the 2-worker run is what they are held against, and this
    # VM's speed drifts by 15-30% over the minutes the other rows take.
    print(f"{count}: nbgrader autograde", file=sys.stderr)
    outcomes.append(nbgrader(out, subs))
    print(f"{count}: otter run, in a loop", file=sys.stderr)
    started = time.perf_counter()
    zip_path = peer_setup.build_otter(out)
    zip_s = time.perf_counter() - started
    outcomes.append(otter_loop(zip_path, subs, out / "otter-run", zip_s))
    docker_note = "`otter grade` skipped (`--skip-docker`)."
    if not args.skip_docker:
        rows, docker_note = otter_containers(zip_path, subs, out, args.containers)
        outcomes += rows
    print(f"{count}: dlgrader, 1 worker", file=sys.stderr)
    outcomes.insert(0, dlgrader(subs, out / "dlgrader-1", 1))
    print(f"{count}: tested notebooks, 2 plain kernels at a time", file=sys.stderr)
    side_by_side = {2: tested_in_parallel([example_of(i) for i in range(count)], 2)}
    for o in outcomes:
        print(json.dumps({"tool": o.tool, "how": o.how, "wall_s": o.run.wall_s}), file=sys.stderr)
    note = (
        f"N = {count}: bare {bare_sum:.1f} s, tested {tested_sum:.1f} s (measured "
        f"{tested_before:.1f} s just before the 2-worker run and {tested_after:.1f} s just "
        f"after), tested with 2 plain kernels at a time {side_by_side[2]:.1f} s. {docker_note}"
    )
    return note, rows_of(outcomes, count, bare_sum, tested_sum, side_by_side)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--count", type=int, nargs="+", default=[10], help="submissions; several: one run each"
    )
    parser.add_argument("--containers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--floor-repeat", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("/tmp/bench-peers"))
    parser.add_argument("--skip-docker", action="store_true", help="no `otter grade`")
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    parser.add_argument(
        "--make-nbgrader-source",
        action="store_true",
        help="rewrite bench/peers/nbgrader/source from solutions/backprop.ipynb and stop",
    )
    args = parser.parse_args()
    if args.make_nbgrader_source:
        print(peer_setup.make_nbgrader_source())
        return
    started_load = load()
    shutil.rmtree(args.out, ignore_errors=True)
    notes, rows = [], []
    for count in args.count:
        note, more = compare(count, args)
        notes.append(note)
        rows += more
    counts = " ".join(str(c) for c in args.count)
    text = "\n".join(
        [
            "## dlgrader against Otter-Grader and nbgrader",
            "",
            f"`python bench/peers.py --count {counts}` on {machine()}; load average at "
            f"the start {started_load}, at the end {load()}. One run of every tool on the "
            "same backprop submissions, all rows from this one invocation; otter-grader and "
            "nbgrader from PyPI in their own venv (`bash bench/peers/setup.sh`: otter-grader "
            "7.0.0, nbgrader 0.9.6), with the lab's tests ported to their formats in "
            "`bench/peers/`.",
            "",
            "**floor** = the sum of bare nbclient execution times divided by the "
            "parallelism; **tested floor** = the same with the ported tests run in the "
            "kernel after the notebook, divided by the parallelism: the work every tool must "
            "do, perfectly parallel. Both are measured just before and just after the "
            "2-worker run and averaged (this VM's speed drifts over minutes), and the "
            "peers run straight after that, before the 1-worker run. "
            "**tested, side by side** = the wall time of those "
            "tested notebooks measured in as many plain kernels at a time as the row's "
            "parallelism (two plain kernels on two cores do not run quite twice as fast as "
            "one). **vs dlgrader** compares with dlgrader at the same parallelism. **CPU** is "
            "per submission, the tool's own processes / the kernels; **peak MB** the tool's "
            "processes together / the largest kernel. **prep** is one-off preparation, not "
            "in the wall time (Otter's zip and image build, nbgrader's release and filing).",
            "",
            *(f"* {note}" for note in notes),
            "",
            table(
                [
                    "N",
                    "tool",
                    "how",
                    "parallel",
                    "wall s",
                    "s / submission",
                    "wall / floor",
                    "wall / tested floor",
                    "wall / tested, side by side",
                    "vs dlgrader",
                    "CPU s tool / kernels",
                    "peak MB tool / kernel",
                    "prep s",
                    "scores = dlgrader's",
                ],
                rows,
            ),
        ]
    )
    print(text)
    if args.write:
        write_section("peers", text)


if __name__ == "__main__":
    main()
