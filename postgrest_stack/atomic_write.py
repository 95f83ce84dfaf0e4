"""Write a file so that readers see the old bytes or the new ones, never a mix."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(path: Path | str, content: bytes, mode: int = 0o600, keep_previous: bool = False) -> None:
    """Write ``content`` to ``path`` via a temporary file and a rename in the same directory.

    With ``keep_previous`` the file being replaced is kept as ``<path>.prev``.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        if keep_previous and path.exists():
            os.link(path, f"{tmp}.prev")
            os.replace(f"{tmp}.prev", f"{path}.prev")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
