"""The documentation site: it builds with no warning, its reference pages are the code's,
and its command examples run.

* ``mkdocs build --strict`` into a temporary folder: a broken link, a missing page, a page
  left out of the nav or a link to a renamed heading fails.
* The rubric, configuration, results and test API pages equal what
  ``scripts/docs_reference.py`` generates now, and every key of the rubric and
  configuration models is in its page with a description.
* Every shell block marked ``<!-- doctest: run -->`` runs in a scratch copy of the course
  (``scripts/docs_examples.py`` has the syntax), with ``grader`` on PATH; its exit code and
  expected text are checked. Every command block is marked, run or skip (with the reason
  readers see), except on the pages listed in ``NOT_YET_MARKED``.
* The quick start, run literally after the install, ends with a class summary.
"""

from __future__ import annotations

import ast
import importlib
import os
import re
import shutil
import subprocess
import sys
import typing
import warnings
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel, Field

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT / "scripts"))

import docs_examples  # noqa: E402
import docs_readme  # noqa: E402
import docs_reference  # noqa: E402

from grader import config, results, rubric  # noqa: E402

DOCS = ROOT / "docs"
#: What a scratch course holds: a copy of the repository's course, as after a clone.
COURSE_PARTS = ["assignments", "rubrics", "solutions", "examples", "templates", "bench"]
#: Pages written before the site, whose command blocks have no doctest marker yet; their
#: commands run in the site's own pages. Remove a page here once its blocks are marked.
NOT_YET_MARKED: set[str] = set()
QUICKSTART = DOCS / "quickstart.md"
README = ROOT / "README.md"
#: Not part of a source tree handed to pip: environments, builds, outputs.
NOT_SOURCE = (".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", "grading-output")
BLOCK_TIMEOUT = 300


# -- the build --------------------------------------------------------------------------


def test_site_builds_without_warnings(tmp_path):
    mkdocs = VENV_BIN / "mkdocs"
    if not mkdocs.exists():
        pytest.skip("mkdocs is not installed (pip install -e '.[dev]')")
    proc = subprocess.run(
        [str(mkdocs), "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stderr[-4000:]}"
    assert (tmp_path / "site" / "quickstart" / "index.html").is_file()
    rubric_page = (tmp_path / "site" / "reference" / "rubric" / "index.html").read_text()
    assert "score_from" in rubric_page


def test_every_page_is_in_the_nav():
    """omitted_files is a warning in mkdocs.yml; this names the page when one is left out."""
    text = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    nav = yaml.safe_load(re.sub(r"!!python/\S+", "", text))["nav"]
    listed = set(_nav_pages(nav))
    pages = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")}
    assert pages - listed == set(), "add these pages to the nav in mkdocs.yml"
    assert listed - pages == set(), "the nav names pages that do not exist"


def _nav_pages(node) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, list):
        return [p for item in node for p in _nav_pages(item)]
    if isinstance(node, dict):
        return [p for value in node.values() for p in _nav_pages(value)]
    return []


# -- generated reference --------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(docs_reference.pages()))
def test_reference_page_is_up_to_date(name):
    page = DOCS / "reference" / name
    assert page.is_file(), f"run: .venv/bin/python scripts/docs_reference.py ({name} missing)"
    assert page.read_text(encoding="utf-8") == docs_reference.pages()[name](), (
        f"docs/reference/{name} differs from the code: run .venv/bin/python "
        "scripts/docs_reference.py"
    )


def documented_keys(page: Path) -> dict[str, dict[str, str]]:
    """{section: {key: description}} from the tables of a generated page."""
    found: dict[str, dict[str, str]] = {}
    section = ""
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
            found[section] = {}
        row = re.match(r"^\| `([^`]+)` \|.*\| ([^|]*) \|$", line)
        if row and section:
            found[section][row.group(1)] = row.group(2).strip()
    return found


@pytest.mark.parametrize(
    ("page", "roots"),
    [
        ("rubric.md", [rubric.Rubric]),
        ("config.md", [config.AssignmentConfig, config.CourseConfig]),
    ],
)
def test_every_model_key_is_documented(page, roots):
    """Walks the models' JSON Schemas, not the generator: a new key must reach the page."""
    documented = documented_keys(DOCS / "reference" / page)
    for root in roots:
        schema = root.model_json_schema()
        models = {root.__name__: schema, **schema.get("$defs", {})}
        for name, model in models.items():
            assert name in documented, f"docs/reference/{page} has no section for {name}"
            for key in model["properties"]:
                assert key in documented[name], f"{name}.{key} is missing from {page}"
                assert documented[name][key] not in ("", "—"), (
                    f"{name}.{key} has no description: add Field(description=...) to the model"
                )


def test_reference_names_every_key_of_a_criterion():
    """The page catches a wrong answer: a key the models lack would show here as extra."""
    documented = documented_keys(DOCS / "reference" / "rubric.md")["Criterion"]
    assert set(documented) == set(rubric.Criterion.model_json_schema()["properties"])
    assert "pass" in documented_keys(DOCS / "reference" / "rubric.md")["Feedback"]


def test_undocumented_key_is_caught(monkeypatch):
    """A field without a description, in the model or in the fallback, is reported."""

    class Inner(BaseModel):
        documented: int = Field(0, description="Has one.")
        bare: int = 0

    class Outer(BaseModel):
        inner: Inner = Field(description="Has one.")

    assert docs_reference.undocumented(Outer) == ["Inner.bare"]
    monkeypatch.setitem(docs_reference.FALLBACK, "Inner.bare", "A stopgap.")
    assert docs_reference.undocumented(Outer) == []


def test_results_page_lists_every_status():
    page = (DOCS / "reference" / "results.md").read_text(encoding="utf-8")
    statuses = (DOCS / "reports.md").read_text(encoding="utf-8")
    for status in typing.get_args(results.CriterionStatus):
        assert f"`{status}`" in page
        assert f"`{status}`" in statuses, f"docs/reports.md does not explain {status!r}"


def test_test_api_page_lists_every_probe_and_nb_member():
    from grader.testing.fixture import Notebook

    page = (DOCS / "reference" / "test-api.md").read_text(encoding="utf-8")
    import docs_api

    for name in docs_api.probe_names():
        assert f"`{name}`" in page
    for name in vars(Notebook):
        if not name.startswith("_") and name != "local":
            assert f"`nb.{name}" in page, f"nb.{name} is missing from test-api.md"


# -- python examples ----------------------------------------------------------------------


def python_blocks() -> list[tuple[str, int, str]]:
    found = []
    for page in docs_examples.pages():
        text = page.read_text(encoding="utf-8")
        for fence in docs_examples.FENCE.finditer(text):
            if fence.group("lang") == "python":
                line = text.count("\n", 0, fence.start()) + 1
                found.append((page.relative_to(DOCS).as_posix(), line, fence.group("body")))
    return found


def test_python_examples_parse_and_import_real_names():
    """A renamed check or probe module would leave examples that cannot work."""
    problems = []
    for page, line, code in python_blocks():
        try:
            tree = ast.parse(code)
        except SyntaxError as exc:
            problems.append(f"docs/{page}:{line}: {exc}")
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("grader"):
                module = importlib.import_module(node.module)
                for alias in node.names:
                    if not hasattr(module, alias.name):
                        try:
                            importlib.import_module(f"{node.module}.{alias.name}")
                        except ImportError:
                            problems.append(f"docs/{page}:{line}: {node.module}.{alias.name}")
    assert problems == []


# -- command examples -------------------------------------------------------------------


def test_every_command_block_is_marked():
    """A command example is run, or says why not; pages not yet converted are listed."""
    unmarked: dict[str, list[str]] = {}
    for page in docs_examples.pages():
        for e in docs_examples.examples(page):
            if e.kind is None or (e.kind == "skip" and not e.reason):
                unmarked.setdefault(e.page, []).append(e.where)
    new = {page: where for page, where in unmarked.items() if page not in NOT_YET_MARKED}
    assert new == {}, "mark each: <!-- doctest: run --> or <!-- doctest: skip REASON -->"
    converted = NOT_YET_MARKED - set(unmarked)
    assert converted == set(), f"every block of {converted} is marked: drop it from NOT_YET_MARKED"


def test_marker_parsing_reads_options(tmp_path, monkeypatch):
    monkeypatch.setattr(docs_examples, "DOCS", tmp_path)
    page = tmp_path / "p.md"
    page.write_text(
        '<!-- doctest: run exit=2 expect="no assignment" needs=docker -->\n'
        "```bash\ngrader grade x.ipynb -a nope\n```\n\n"
        "<!-- doctest: skip needs a GPU -->\n```bash\nnvidia-smi\n```\n\n"
        "```bash\nunmarked\n```\n\n```python\nnot shell\n```\n",
        encoding="utf-8",
    )
    first, second, third = docs_examples.examples(page)
    assert (first.kind, first.exit, first.expect, first.needs) == (
        "run",
        2,
        ["no assignment"],
        ["docker"],
    )
    assert (second.kind, second.reason) == ("skip", "needs a GPU")
    assert third.kind is None and third.code == "unmarked"


def scratch_course(folder: Path) -> Path:
    """A copy of the course as a clone would have it, with this .venv beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    for part in [*COURSE_PARTS, "dlgrader.yaml"]:
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, folder / part, ignore=shutil.ignore_patterns("__pycache__"))
        elif source.is_file():
            shutil.copy2(source, folder / part)
    (folder / ".venv").symlink_to(VENV_BIN.parent)
    return folder


def shell_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRADER_", "VIRTUAL_ENV"))}
    for name in ("DLGRADER_DATA_TIER", "KERAS_HOME"):
        env.pop(name, None)
    env.update(PATH=f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}", COLUMNS="200", TERM="dumb")
    # A page that installs packages reuses this user's pip cache, not the scratch HOME's.
    env.setdefault("PIP_CACHE_DIR", str(Path.home() / ".cache" / "pip"))
    env.update(NO_COLOR="1", HOME=str(home))
    return env


def docker_works() -> str | None:
    """None when the Docker runner can grade here, else why not."""
    from grader.runners.base import RunnerUnavailable
    from grader.runners.docker import DockerRunner

    try:
        DockerRunner().check()
    except RunnerUnavailable as exc:
        return str(exc)
    return None


def run_page(
    page: Path, course: Path, timeout: float = BLOCK_TIMEOUT
) -> list[docs_examples.Example]:
    """Run a page's runnable blocks in order, each where the previous one ended."""
    state = course.parent / "cwd"
    state.write_text(str(course))
    home = course.parent / "home"
    home.mkdir(exist_ok=True)
    ran = []
    for example in docs_examples.examples(page):
        if example.kind != "run":
            continue
        if "docker" in example.needs and (why := docker_works()) is not None:
            if os.environ.get("DLGRADER_REQUIRE_DOCKER") == "1":
                pytest.fail(f"{example.where}: DLGRADER_REQUIRE_DOCKER=1 but {why}")
            warnings.warn(f"{example.where} not run: {why}", stacklevel=1)
            continue  # the rest of the page runs; tests/test_docker.py reports it loudly
        script = f"cd \"$(cat '{state}')\"\ntrap 'pwd > \"{state}\"' EXIT\n{example.code}\n"
        proc = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            capture_output=True,
            text=True,
            env=shell_env(home),
            timeout=timeout,
        )
        output = proc.stdout + proc.stderr
        where = f"{example.where} exited {proc.returncode}, expected {example.exit}"
        assert proc.returncode == example.exit, f"{where}\n{example.code}\n---\n{output[-3000:]}"
        for text in example.expect:
            assert text in output, f"{example.where}: no {text!r} in the output:\n{output[-3000:]}"
        ran.append(example)
    return ran


def page_param(page: Path):
    """A page with an example that needs the Docker runner carries the ``docker`` marker, so
    that CI can run it once the kernel image is built (``.ci/run``)."""
    needs_docker = any("docker" in e.needs for e in docs_examples.examples(page))
    marks = [pytest.mark.docker] if needs_docker else []
    return pytest.param(page, marks=marks, id=page.relative_to(DOCS).as_posix())


RUNNABLE = [page_param(p) for p in docs_examples.runnable_pages() if p != QUICKSTART]


@pytest.mark.slow
@pytest.mark.parametrize("page", RUNNABLE)
def test_command_examples_run(page, tmp_path):
    assert run_page(page, scratch_course(tmp_path / "course"))


def test_only_pages_with_a_docker_example_wait_for_the_image():
    marked = {p.id for p in RUNNABLE if any(m.name == "docker" for m in p.marks)}
    assert "docker.md" in marked and "instructors/grading.md" in marked
    assert "batch.md" not in marked and "exports.md" not in marked


@pytest.mark.slow
def test_quickstart_ends_with_a_class_summary(tmp_path):
    """Everything after the install, run literally, in a fresh copy of the repository."""
    examples = docs_examples.examples(QUICKSTART)
    install, *after = examples
    assert install.kind == "skip" and "scripts/setup.sh" in install.code
    assert all(e.kind == "run" for e in after), "every step after the install must run"
    course = scratch_course(tmp_path / "dlgrader")
    run_page(QUICKSTART, course)
    summary = course / "grading-output" / "backprop" / "summary.html"
    assert summary.is_file(), "the quick start did not end with a class summary"
    html = summary.read_text(encoding="utf-8")
    for student in ("alice_correct", "bob_sign_flip_db1", "carol_missing_2_over_n"):
        assert student in html


# -- the README -------------------------------------------------------------------------


def test_readme_lists_every_bundled_lab():
    """The table is generated from the labs: a new or renamed lab cannot be left out."""
    text = README.read_text(encoding="utf-8")
    assert docs_readme.with_table(text) == text, "run: .venv/bin/python scripts/docs_readme.py"
    from grader import bundled

    for name in bundled.lab_names():
        assert f"| `{name}` |" in text
    assert "to come" not in text, "the README promises something that already exists"


def test_readme_table_check_catches_a_missing_lab(monkeypatch):
    text = README.read_text(encoding="utf-8")
    stale = "\n".join(ln for ln in text.splitlines() if not ln.startswith("| `neurons` |"))
    assert docs_readme.with_table(stale) != stale


def test_readme_course_block_is_marked_to_run():
    blocks = [e for e in docs_examples.examples(README) if e.kind == "run"]
    assert blocks, "the README's own-course commands must run in the docs test"
    code = "\n".join(e.code for e in blocks)
    for command in ("pip install", "grader init", "grader add", "grader grade", "grader new"):
        assert command in code


@pytest.mark.slow
def test_readme_own_course_runs_from_the_installed_wheel(tmp_path):
    """Every line of "Your own course", literally: build, install, init, add, grade, new."""
    source = tmp_path / "dlgrader"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*NOT_SOURCE))
    # One block builds a wheel, installs it with its dependencies and grades two backprop
    # examples (every example's verdict is tests/test_assignments_content.py's job).
    assert run_page(README, source, timeout=BLOCK_TIMEOUT * 4)
    course = tmp_path / "home" / "mycourse"
    assert (course / "dlgrader.yaml").is_file()
    report = course / "grading-output" / "backprop" / "alice_correct"
    assert (report / "report.html").is_file() and (report / "report.md").is_file()
