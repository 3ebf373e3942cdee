"""Atomic file writes: temp file in the target folder, then rename or hard link."""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from collections.abc import Callable
from typing import BinaryIO


def open_temp(directory: str, stem: str) -> tuple[str, BinaryIO]:
    """Create a hidden, exclusive temp file in `directory` (umask-respecting permissions)."""
    for _ in range(100):
        path = os.path.join(directory, f".{stem[:80]}.{secrets.token_hex(6)}.tmp")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        return path, os.fdopen(fd, "wb")
    raise FileExistsError(errno.EEXIST, "could not create a temp file", directory)


def remove_quietly(path: str) -> None:
    """Delete a file if it exists; cleanup must never mask the original error."""
    with contextlib.suppress(OSError):
        os.unlink(path)


def fsync_dir(directory: str) -> None:
    """Make a rename durable; not every platform or file system allows it."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_replacing(path: str, write: Callable[[BinaryIO], None], durable: bool = False) -> None:
    """Write via a temp file and os.replace, so readers see the old or new file, never half."""
    directory = os.path.dirname(os.path.abspath(path))
    tmp, fh = open_temp(directory, os.path.basename(path))
    try:
        with fh:
            write(fh)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        remove_quietly(tmp)
        raise
    if durable:
        fsync_dir(directory)


def link_no_clobber(tmp: str, candidates: list[str]) -> str:
    """Publish `tmp` under the first candidate name that does not exist yet; never overwrite."""
    # Hard links fail with EEXIST atomically, so concurrent exporters can't pick the same name.
    # Where hard links are unsupported (FAT, some network shares) a name is reserved with
    # O_EXCL and the finished file renamed over that reservation.
    for candidate in candidates:
        try:
            os.link(tmp, candidate)
        except FileExistsError:
            continue
        except OSError as exc:
            if exc.errno not in (
                errno.EPERM,
                errno.ENOTSUP,
                errno.EOPNOTSUPP,
                errno.EXDEV,
                errno.ENOSYS,
            ):
                raise
            try:
                os.close(os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            except FileExistsError:
                continue
            os.replace(tmp, candidate)
            return candidate
        remove_quietly(tmp)
        return candidate
    raise FileExistsError(errno.EEXIST, "every candidate file name is taken", candidates[-1])


def link_exclusive(tmp: str, target: str) -> bool:
    """Put `tmp` in place as `target` unless that name exists (then False, `tmp` kept)."""
    try:
        os.link(tmp, target)
    except FileExistsError:
        return False
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS):
            raise
        # No hard links here (FAT, some shares): reserve the name, then rename over it.
        try:
            os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            return False
        os.replace(tmp, target)
    remove_quietly(tmp)
    fsync_dir(os.path.dirname(os.path.abspath(target)))
    return True
