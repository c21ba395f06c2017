"""Finding a class's submissions and keeping their grades: files only, no kernels."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from grader.batch.gradebook import Gradebook
from grader.batch.submissions import BatchInputError, Roster, discover, extract_zip
from grader.report import samples

TOY = Path(__file__).parent / "fixtures" / "toy_course"


def notebook(path: Path, text: str = "{}") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_one_file_per_student_with_the_default_and_a_custom_pattern(tmp_path):
    notebook(tmp_path / "subs" / "alice.ipynb", "a")
    notebook(tmp_path / "subs" / "bob.ipynb", "b")
    notebook(tmp_path / "subs" / "notes.txt")
    found = discover(tmp_path / "subs", tmp_path / "work")
    assert [(s.student, s.path.name, s.problem is None) for s in found] == [
        ("alice", "alice.ipynb", True),
        ("bob", "bob.ipynb", True),
        ("notes", "notes.txt", False),  # every file gets a row: this one not gradable
    ]
    assert "not a notebook (a .txt file)" in found[2].problem
    assert found[0].sha256 != found[1].sha256
    notebook(tmp_path / "lab" / "lab3_s0001_final.ipynb")
    picked = discover(tmp_path / "lab", tmp_path / "w2", r"lab3_(?P<id>s\d+)")
    assert [s.student for s in picked] == ["s0001"]


def test_one_folder_per_student(tmp_path):
    notebook(tmp_path / "subs" / "carol" / "work" / "lenet.ipynb")
    notebook(tmp_path / "subs" / "carol" / ".ipynb_checkpoints" / "lenet-checkpoint.ipynb")
    notebook(tmp_path / "subs" / "dave" / "mine.ipynb")
    found = discover(tmp_path / "subs", tmp_path / "work")
    assert [(s.student, s.path.name) for s in found] == [
        ("carol", "lenet.ipynb"),
        ("dave", "mine.ipynb"),
    ]
    notebook(tmp_path / "subs" / "dave" / "other.ipynb")
    with pytest.raises(BatchInputError, match="dave: 2 notebooks"):
        discover(tmp_path / "subs", tmp_path / "work")


def test_bad_patterns_and_duplicate_ids_are_clear_errors(tmp_path):
    notebook(tmp_path / "subs" / "lab_s1_a.ipynb")
    notebook(tmp_path / "subs" / "lab_s1_b.ipynb")
    with pytest.raises(BatchInputError, match="group named id"):
        discover(tmp_path / "subs", tmp_path, r"lab_(s\d)")
    with pytest.raises(BatchInputError, match="not a regular expression"):
        discover(tmp_path / "subs", tmp_path, r"(?P<id>")
    with pytest.raises(BatchInputError, match="several submissions, e.g. 's1'"):
        discover(tmp_path / "subs", tmp_path, r"lab_(?P<id>s\d)")
    with pytest.raises(BatchInputError, match="does not match --pattern"):
        discover(tmp_path / "subs", tmp_path, r"^x(?P<id>\d)")
    (tmp_path / "empty").mkdir()
    with pytest.raises(BatchInputError, match="no .ipynb files"):
        discover(tmp_path / "empty", tmp_path)
    with pytest.raises(BatchInputError, match="not a folder or zip"):
        discover(tmp_path / "missing", tmp_path)


def test_roster_checks_ids_columns_and_duplicates(tmp_path):
    notebook(tmp_path / "subs" / "s1.ipynb")
    notebook(tmp_path / "subs" / "s9.ipynb")
    roster = tmp_path / "roster.csv"
    roster.write_text("Student,SIS User ID,Section\nAnn,s1,A\nBo,s2,B\n")
    read = Roster.read(roster)
    assert read.rows["s1"]["Student"] == "Ann"
    with pytest.raises(BatchInputError, match="not in .*roster.csv: s9"):
        discover(tmp_path / "subs", tmp_path, roster=read)
    canvas = tmp_path / "canvas.csv"
    canvas.write_text("Student,ID,SIS User ID\nPoints Possible,,\nAnn,101,s1\n")
    assert list(Roster.read(canvas).rows) == ["101"], "Canvas's Points Possible row is skipped"
    (tmp_path / "bad.csv").write_text("name,section\nAnn,A\n")
    with pytest.raises(BatchInputError, match="no student id column"):
        Roster.read(tmp_path / "bad.csv")
    (tmp_path / "twice.csv").write_text("id\ns1\ns1\n")
    with pytest.raises(BatchInputError, match="line 3: student id 's1' appears twice"):
        Roster.read(tmp_path / "twice.csv")


def test_zips_unpack_safely(tmp_path):
    good = tmp_path / "class.zip"
    with zipfile.ZipFile(good, "w") as archive:
        archive.writestr("class/alice.ipynb", "{}")
        archive.writestr("__MACOSX/._alice.ipynb", "junk")
    found = discover(good, tmp_path / "work")
    assert [s.student for s in found] == ["alice"]
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as archive:
        archive.writestr("../../escaped.ipynb", "{}")
    with pytest.raises(BatchInputError, match="points outside the folder"):
        extract_zip(evil, tmp_path / "unzipped")
    assert not (tmp_path.parent / "escaped.ipynb").exists()


def result_for(points: float, sha: str, graded_at: str):
    result = samples.full_marks()
    return result.model_copy(
        update={
            "score": result.score.model_copy(update={"points": points}),
            "submission": result.submission.model_copy(update={"sha256": sha}),
            "graded_at": graded_at,
        }
    )


def test_gradebook_keeps_attempts_and_picks_latest_or_best(tmp_path):
    path = tmp_path / "gb.sqlite"
    with Gradebook(path) as book:
        for points, sha, when in ((40, "a1", "2026-01-01"), (30, "a2", "2026-01-02")):
            result = result_for(points, sha, when)
            book.record("ann", result, tmp_path / "r.json", result.model_dump_json())
        assignment = result.assignment
        regrade = result_for(35, "a2", "2026-01-03")
        book.record("ann", regrade, tmp_path / "r.json", regrade.model_dump_json())
    with Gradebook(path) as book:  # reopened: everything was committed
        assert book.graded(assignment) == {("ann", "a1"), ("ann", "a2")}
        assert len(book.attempts(assignment, "ann")) == 2, "a regrade replaces its attempt"
        assert [a.points for a in book.final(assignment)] == [35]
        assert [a.points for a in book.final(assignment, "best")] == [40]
        latest = book.final(assignment)[0]
        assert book.result(latest.id).score.points == 35


def test_only_the_last_task_of_each_worker_skips_starting_a_next_kernel():
    from grader.batch.dispatch import last_without_next_kernel
    from grader.batch.tasks import Task

    tasks = [Task(f"s{i}", "n.ipynb", b"{}", "toy", "hash") for i in range(5)]
    marked = last_without_next_kernel(tasks, workers=2)
    assert [t.warm_next for t in marked] == [True, True, True, False, False]
    assert [t.student for t in marked] == [t.student for t in tasks]
    assert [t.warm_next for t in last_without_next_kernel(tasks[:1], workers=2)] == [False]
    assert all(t.warm_next for t in last_without_next_kernel(tasks, workers=0))


def test_a_worker_loads_a_bundles_assignment_and_rubric_once(tmp_path, monkeypatch):
    """Every grading of one bundle in a worker uses the assignment the first one loaded:
    the bundle's folder is named by its hash, so its files cannot change under it."""
    import dataclasses

    import grader.course
    from grader.batch import bundle, tasks
    from grader.course import find_course

    monkeypatch.setenv(bundle.CACHE_ENV, str(tmp_path / "cache"))
    tasks._assignment_at.cache_clear()
    made = bundle.make_bundle(find_course(TOY).assignment("toy"))
    loaded = []
    real = grader.course.load_rubric
    monkeypatch.setattr(grader.course, "load_rubric", lambda *a: loaded.append(a) or real(*a))
    task = tasks.Task("s1", "s1.ipynb", b"{}", "toy", made.sha256)
    first, _ = tasks._grading_setup(task, made.data)
    second, _ = tasks._grading_setup(dataclasses.replace(task, student="s2"), made.data)
    assert second is first and first.rubric is second.rubric
    assert len(loaded) == 1
