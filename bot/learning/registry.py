"""Model versions on disk: numbered folders under one root (`v0001/` …, each with factors, id maps and
`metrics.json`), written to a temporary folder and renamed, so a crash never leaves a half-written version; the newest
one that reads back serves."""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from recsys.cf.scorer import CFScorer

if TYPE_CHECKING:
    from bot.learning.training import RetrainResult

log = logging.getLogger(__name__)


@dataclass
class Version:
    name: str
    path: Path
    info: dict

    @property
    def trained_through(self) -> int:
        return int(self.info.get("trained_through", 0))


class ModelRegistry:
    """Numbered model folders under one root; the newest readable one serves."""

    def __init__(self, root: Path, keep: int = 10) -> None:
        self.root = root
        self.keep = keep

    def versions(self) -> list[Version]:
        found = []
        if self.root.is_dir():
            for path in sorted(self.root.glob("v[0-9][0-9][0-9][0-9]*")):
                try:
                    found.append(Version(path.name, path, json.loads((path / "metrics.json").read_text(encoding="utf-8"))))
                except (OSError, ValueError) as exc:
                    log.warning("model %s is unreadable (%s); skipping it", path, exc)
        return found

    def load_latest(self) -> tuple[CFScorer, Version] | None:
        for version in reversed(self.versions()):
            try:
                return CFScorer.load(version.path), version
            except Exception as exc:  # a damaged version must not stop the bot: fall back to the one before
                log.warning("model %s failed to load (%s); trying the previous one", version.name, exc)
        return None

    def save(self, scorer: CFScorer, info: dict) -> Version:
        self.root.mkdir(parents=True, exist_ok=True)
        versions = self.versions()
        number = int(versions[-1].name[1:]) + 1 if versions else 1
        name = f"v{number:04d}"
        tmp = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=self.root))
        info = {**info, "version": name}
        scorer.save(tmp)
        _write_json(tmp / "metrics.json", info)
        _fsync_dir(tmp)
        os.rename(tmp, self.root / name)  # atomic: readers see the whole version or none
        _fsync_dir(self.root)
        for old in versions[: max(len(versions) + 1 - self.keep, 0)]:
            shutil.rmtree(old.path, ignore_errors=True)
        return Version(name, self.root / name, info)

    def forget_user(self, user: str) -> int:
        """Remove a user's row from every stored version (rewritten in place via temp files); returns how many held it."""
        changed = 0
        for version in self.versions():
            try:
                scorer = CFScorer.load(version.path)
            except Exception:
                continue
            if scorer.forget_user(user):
                tmp = Path(tempfile.mkdtemp(prefix=f".{version.name}-forget-", dir=self.root))
                scorer.save(tmp)
                for written in tmp.iterdir():
                    os.replace(written, version.path / written.name)
                shutil.rmtree(tmp, ignore_errors=True)
                changed += 1
        return changed

    def record_decision(self, result: RetrainResult) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / "decisions.jsonl").open("a", encoding="utf-8") as f:
            f.write(json.dumps(asdict(result)) + "\n")


def _write_json(path: Path, data: dict) -> None:
    with path.open("w", encoding="utf-8") as f:
        json.dump(data, f, indent=2)
        f.flush()
        os.fsync(f.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
