"""The wheel carries everything grading needs at run time; the code finds it either way.

Built for real (``pip wheel``, no dependencies, no network), then its file list is read:
a missing pytest config or templates folder once made an installed grader score every
notebook 0 (issue 17).
"""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from grader import bundled

ROOT = Path(__file__).resolve().parent.parent
NOT_SOURCE = (".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", "grading-output")
LABS = sorted(p.parent.name for p in (ROOT / "assignments").glob("*/assignment.yaml"))


@pytest.fixture(scope="module")
def wheel_files(tmp_path_factory) -> set[str]:
    out = tmp_path_factory.mktemp("dist")
    build = tmp_path_factory.mktemp("src")
    # Build from a copy: pip builds in place, and the checkout's build/ must not be touched.
    source = build / "dlgrader"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*NOT_SOURCE))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
        + ["-w", str(out), str(source)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = out.glob("dlgrader-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def test_the_wheel_carries_templates_and_the_pytest_config(wheel_files):
    for name in ("report.html.j2", "report.md.j2", "summary.html.j2", "base.html.j2"):
        assert f"grader/templates/{name}" in wheel_files
    assert "grader/testing/pytest.ini" in wheel_files
    assert "grader/exports/gradescope_setup.sh" in wheel_files
    assert "grader/probes/kernel.py" in wheel_files


@pytest.mark.parametrize("lab", LABS)
def test_the_wheel_carries_every_lab(wheel_files, lab):
    base = "grader/labs/"
    assert f"{base}assignments/{lab}/assignment.yaml" in wheel_files
    assert f"{base}assignments/{lab}/stub.ipynb" in wheel_files
    assert f"{base}solutions/{lab}.ipynb" in wheel_files
    assert f"{base}rubrics/{lab}.yaml" in wheel_files
    for kind in ("public", "hidden"):
        assert any(f.startswith(f"{base}assignments/{lab}/tests/{kind}/") for f in wheel_files)
    assert any(f.startswith(f"{base}examples/submissions/{lab}/") for f in wheel_files)
    assert not any("__pycache__" in f for f in wheel_files)


def test_a_checkout_reads_the_repository_folders():
    assert bundled.templates_dir() == ROOT / "templates"
    assert bundled.labs_root() == ROOT
    assert bundled.lab_names() == LABS


def test_an_installed_package_reads_its_own_copies(tmp_path, monkeypatch):
    package = tmp_path / "site-packages" / "grader"
    (package / "templates").mkdir(parents=True)
    (package / "templates" / "report.html.j2").write_text("x")
    for part in ("assignments/lab1", "rubrics"):
        (package / "labs" / part).mkdir(parents=True)
    (package / "labs" / "assignments" / "lab1" / "assignment.yaml").write_text("name: lab1")
    monkeypatch.setattr(bundled, "PACKAGE", package)
    monkeypatch.setattr(bundled, "CHECKOUT", tmp_path / "site-packages")
    assert bundled.templates_dir() == package / "templates"
    assert bundled.lab_names() == ["lab1"]


def test_a_course_template_overrides_the_installed_ones_one_file_at_a_time(tmp_path, monkeypatch):
    from grader.report import samples
    from grader.report.render import render_html, render_markdown, template_folders

    package = tmp_path / "site-packages" / "grader"
    shutil.copytree(ROOT / "templates", package / "templates")
    monkeypatch.setattr(bundled, "PACKAGE", package)
    monkeypatch.setattr(bundled, "CHECKOUT", tmp_path / "site-packages")
    course = tmp_path / "course" / "templates"
    course.mkdir(parents=True)
    (course / "report.md.j2").write_text("COURSE OVERRIDE {{ report.title }}\n")
    assert template_folders(course) == [course, package / "templates"]
    markdown = render_markdown(samples.full_marks(), templates_dir=course)
    assert markdown.startswith("COURSE OVERRIDE")
    assert "<html" in render_html(samples.full_marks(), templates_dir=course)


def test_version_is_one_number_everywhere():
    """`grader --version`, the package and the distribution's metadata agree."""
    import importlib.metadata

    from grader import __version__

    done = subprocess.run(
        [sys.executable, "-m", "grader", "--version"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and done.stdout.strip() == f"dlgrader, version {__version__}"
    assert importlib.metadata.version("dlgrader") == __version__
    assert f'version = "{__version__}"' in (ROOT / "pyproject.toml").read_text()
