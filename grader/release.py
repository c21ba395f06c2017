"""Build what a student downloads: the stub, public tests, the public rubric, data files.

The release is made from an allow-list, never by copying the assignment folder and
deleting: hidden tests, the solution and hidden rubric text cannot slip in because a
new file appeared. A test opens the zip and looks for each of them.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import yaml

from grader.course import Assignment
from grader.rubric import Criterion, Rubric

#: Fixed timestamp for zip entries, so the same release gives the same bytes.
ZIP_DATE = (2020, 1, 1, 0, 0, 0)


def is_checkable(criterion: Criterion) -> bool:
    """Whether students can check a criterion themselves: it has tests, all of them public.

    A criterion a person marks has no tests, so it is never checkable.
    """
    return bool(criterion.tests) and all(t.startswith("public/") for t in criterion.tests)


def questions(rubric: Rubric) -> dict[str, Criterion]:
    """``q1``, ``q2``, ... -> the checkable criteria, in rubric order.

    What ``check("q1")`` in a notebook means. The released rubric holds exactly these
    criteria in this order, so the numbers are the same in the course and in the release;
    each criterion's id (``check("shapes")``) works as well.
    """
    return {f"q{n}": c for n, c in enumerate(filter(is_checkable, rubric.criteria), start=1)}


def public_rubric(assignment: Assignment) -> dict:
    """The rubric as students may see it: visible criteria in full, others by name only."""
    checkable = {c.id: q for q, c in questions(assignment.rubric).items()}
    criteria = []
    for c in assignment.rubric.criteria:
        entry: dict = {"id": c.id, "name": c.name, "points": c.points, "visibility": c.visibility}
        if c.id in checkable:
            entry["check"] = checkable[c.id]
        if c.visibility == "visible":
            if c.feedback is not None:
                entry["feedback"] = {"pass": c.feedback.passed, "fail": c.feedback.failed}
            entry["public_tests"] = [t for t in c.tests if t.startswith("public/")]
        if c.requires_gpu:
            entry["requires_gpu"] = True
        criteria.append(entry)
    return {
        "assignment": assignment.name,
        "title": assignment.config.title,
        "total": assignment.rubric.max_points,
        "note": "Hidden tests also run when your work is graded.",
        "criteria": criteria,
    }


def checkable_rubric(assignment: Assignment) -> dict | None:
    """A loadable rubric of the public criteria only: what ``grader check`` grades."""
    criteria = []
    for c in assignment.rubric.criteria:
        if is_checkable(c):
            criteria.append(c.model_dump(mode="json", by_alias=True, exclude_none=True))
    if not criteria:
        return None
    return {"assignment": assignment.name, "criteria": criteria}


def release_files(assignment: Assignment) -> dict[str, Path | str]:
    """Archive path -> source file (or text) for everything in the release.

    The release is a small course of its own, so ``grader check`` works inside it.
    """
    name = assignment.name
    course = f"{name}/assignments/{name}"
    files: dict[str, Path | str] = {f"{name}/{name}.ipynb": assignment.stub}
    files[f"{course}/assignment.yaml"] = yaml.safe_dump(
        assignment.config.model_dump(mode="json", exclude_none=True, exclude={"viva_questions"}),
        sort_keys=False,
    )
    public = assignment.tests_root / "public"
    for path in sorted(public.rglob("*.py")) if public.is_dir() else []:
        if "__pycache__" not in path.parts:
            files[f"{course}/tests/public/{path.relative_to(public).as_posix()}"] = path
    data = assignment.folder / "data"
    for path in sorted(data.rglob("*")) if data.is_dir() else []:
        if path.is_file():
            relative = path.relative_to(data).as_posix()
            files[f"{name}/data/{relative}"] = path  # beside the notebook, for the student
            files[f"{course}/data/{relative}"] = path  # where `grader check` gives it the kernel
    checkable = checkable_rubric(assignment)
    if checkable is not None:
        files[f"{name}/rubrics/{name}.yaml"] = yaml.safe_dump(checkable, sort_keys=False)
    files[f"{name}/criteria.yaml"] = yaml.safe_dump(public_rubric(assignment), sort_keys=False)
    files[f"{name}/README.md"] = _readme(assignment)
    return files


def _readme(assignment: Assignment) -> str:
    name = assignment.name
    listed = questions(assignment.rubric)
    rows = "".join(f"| `{q}` | `{c.id}` | {c.name} |\n" for q, c in listed.items())
    in_notebook = (
        (
            "In the notebook, once the cells above have run:\n\n"
            "    from grader import check\n"
            f'    check("q1")   # or check("{next(iter(listed.values())).id}"); '
            "check() runs them all\n\n"
            "| check | id | what |\n|---|---|---|\n" + rows + "\n"
        )
        if listed
        else ""
    )
    return (
        f"# {assignment.config.title}\n\n"
        f"Open `{name}.ipynb`, write the parts marked `NotImplementedError`, "
        "and run every cell.\n\n"
        "Check your work before submitting (needs `pip install dlgrader`). Keep this folder\n"
        "together: the checks find their tests beside the notebook.\n\n"
        + in_notebook
        + "From a shell, in a fresh kernel, top to bottom:\n\n"
        f"    grader check {name}.ipynb\n"
        f"    grader check --submit {name}.ipynb   # also writes {name}_submission.ipynb\n\n"
        f"These run the public tests in `assignments/{name}/tests/public/` only. Hidden tests\n"
        "also run when your work is graded, so a full score here is not a promise of full\n"
        "marks. `criteria.yaml` lists every criterion and its points.\n"
    )


def build_release(assignment: Assignment, out_dir: Path) -> tuple[Path, Path]:
    """Write ``out_dir/NAME/`` and ``out_dir/NAME.zip``; return both paths."""
    files = release_files(assignment)
    folder = out_dir / assignment.name
    if folder.exists():
        shutil.rmtree(folder)
    archive = out_dir / f"{assignment.name}.zip"
    out_dir.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for arcname, source in files.items():
            data = source.read_bytes() if isinstance(source, Path) else source.encode("utf-8")
            target = out_dir / arcname
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            zipped.writestr(zipfile.ZipInfo(arcname, date_time=ZIP_DATE), data)
    return folder, archive
