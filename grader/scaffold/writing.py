"""Write a set of new files, all or none: a course's files are never overwritten."""

from __future__ import annotations

from pathlib import Path

from grader.errors import ConfigError


def refuse_existing(targets: list[Path], what: str, root: Path) -> None:
    """A ConfigError naming the files that exist already, before anything is written."""
    existing = [t for t in targets if t.exists()]
    if existing:
        shown = ", ".join(_shown(p, root) for p in existing[:5])
        more = f" and {len(existing) - 5} more" if len(existing) > 5 else ""
        raise ConfigError(
            f"{what}: {shown}{more} already exist(s); nothing was written "
            "(move them away first: a course's files are never overwritten)"
        )


def write_texts(files: dict[Path, str], what: str, root: Path) -> list[Path]:
    """Write every text file of ``files`` (path -> content), or none if one exists."""
    refuse_existing(list(files), what, root)
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return list(files)


def files_under(folder: Path) -> list[Path]:
    """Every file of a bundled folder, relative to it, without caches."""
    skipped = {"__pycache__", ".ipynb_checkpoints"}
    return sorted(
        p.relative_to(folder)
        for p in folder.rglob("*")
        if p.is_file() and not skipped & set(p.relative_to(folder).parts) and p.suffix != ".pyc"
    )


def _shown(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)
