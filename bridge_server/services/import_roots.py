"""Which folders a remote import request may read: the hot folders and the `import_roots`
setting, nothing above them, no `..`, no symlink leading out."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from ..config import Settings
from .errors import Forbidden, InvalidArguments

ROOTS_HINT = "add the folder to 'import_roots' (or the hot folders) in the settings"


def import_roots(settings: Settings) -> list[Path]:
    """The configured folders, resolved (a root that is itself a symlink counts as its target)."""
    return [Path(os.path.realpath(p)) for p in [*settings.hot_folders, *settings.import_roots] if p]


def inside(path: Path, roots: Iterable[Path]) -> bool:
    """Whether an already resolved `path` is one of `roots` or below one."""
    return any(path == root or path.is_relative_to(root) for root in roots)


def confine_import_paths(paths: Sequence[str], roots: Sequence[Path]) -> list[str]:
    """The requested paths, resolved, if each is below a root; else a clear 400 or 403.

    Touches the file system (symlinks are resolved): call it through `asyncio.to_thread`.
    """
    if not roots:
        raise Forbidden(f"No import folders are configured: {ROOTS_HINT}")
    confined: list[str] = []
    for raw in paths:
        path = Path(raw)
        if not path.is_absolute():
            raise InvalidArguments(f"Import paths must be absolute: {raw!r}")
        if ".." in path.parts:
            raise InvalidArguments(f"Import paths may not contain '..': {raw!r}")
        real = Path(os.path.realpath(path))
        if not inside(real, roots):
            raise Forbidden(f"{raw!r} is outside the import folders: {ROOTS_HINT}")
        confined.append(str(real))
    return confined


def printable_path(path: str | os.PathLike[str]) -> str:
    """A path as valid text: bytes that are not UTF-8 shown as `\\xe9` escapes."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def has_printable_name(path: str | os.PathLike[str]) -> bool:
    """Whether a path is valid Unicode (a non-UTF-8 file name decodes to lone surrogates)."""
    try:
        os.fspath(path).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
