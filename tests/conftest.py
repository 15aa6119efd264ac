"""Shared fixtures: the bundled catalogue is indexed once per test run with the real models, and each
test gets its own copy of that index plus fresh SQLite files, so tests never see each other's state."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from adapters.cli import new_bot
from adapters.config import Config
from bot.service import BotService
from tests import servers

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"
# The default provider is the local LLM. Tests run the deterministic `rules` unless they ask for another; the local
# model has its own tests in test_local_llm.py, with a real conversation.
RULES = {"provider": "rules"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test on the indexed demo catalogue is slow (real encoders, Chroma): `pytest -m "not slow"` leaves them out."""
    for item in items:
        if "indexed_chroma" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def _clean_recbot_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's RECBOT_* variables must not change what a test sees."""
    for name in list(os.environ):
        if name.startswith("RECBOT_"):
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def indexed_chroma(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo catalogue indexed with the real encoders, once per session."""
    from bot.catalogue_setup import open_catalogue

    root = tmp_path_factory.mktemp("index")
    config = Config(storage={"dir": root})
    open_catalogue(config, progress=False)
    return root / "chroma"


def make_config(data_dir: Path, indexed_chroma: Path, **sections: dict) -> Config:
    """A config whose data dir holds a private copy of the indexed store."""
    shutil.copytree(indexed_chroma, data_dir / "chroma")
    return Config(storage={"dir": data_dir}, **{**sections, "llm": {**RULES, **sections.get("llm", {})}})


@pytest.fixture
def config(tmp_path: Path, indexed_chroma: Path) -> Config:
    return make_config(tmp_path / "data", indexed_chroma)


@pytest.fixture
async def service(config: Config) -> AsyncIterator[BotService]:
    svc = new_bot(config)
    await svc.start(progress=False)
    try:
        yield svc
    finally:
        await svc.close()


@pytest.fixture
async def start_service(tmp_path: Path, indexed_chroma: Path) -> AsyncIterator[Callable[..., Awaitable[BotService]]]:
    """Start bots with the given config sections, each on its own copy of the index; all are closed after the test."""
    services: list[BotService] = []

    async def start(**sections: dict) -> BotService:
        svc = new_bot(make_config(tmp_path / f"data{len(services)}", indexed_chroma, **sections))
        await svc.start(progress=False)
        services.append(svc)
        return svc

    yield start
    for svc in services:
        await svc.close()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A throw-away PostgreSQL on 127.0.0.1 when the server binaries and psycopg are installed."""
    pytest.importorskip("psycopg")
    try:
        with servers.postgres() as url:
            yield url
    except servers.Unavailable as exc:
        pytest.skip(str(exc))


@pytest.fixture
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Chroma server (`chroma run`, shipped in the chromadb package) on 127.0.0.1, stopped by its PID afterwards."""
    try:
        with servers.chroma(tmp_path_factory.mktemp("chroma-server")) as url:
            yield url
    except servers.Unavailable as exc:
        pytest.skip(str(exc))
