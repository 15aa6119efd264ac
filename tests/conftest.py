"""Shared fixtures: the bundled catalogue is indexed once per test run with the real models, and each
test gets its own copy of that index plus fresh SQLite files, so tests never see each other's state."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from adapters.cli import new_bot
from adapters.config import Config
from bot.service import BotService

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
def postgres_url():  # type: ignore[no-untyped-def]
    """A throw-away PostgreSQL on 127.0.0.1 when the server binaries and psycopg are installed."""
    import glob
    import shutil
    import socket

    pytest.importorskip("psycopg")
    # Debian keeps the server binaries off PATH, under /usr/lib/postgresql/<version>/bin
    search = os.pathsep.join([os.environ.get("PATH", ""), *sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)])
    initdb, pg_ctl = shutil.which("initdb", path=search), shutil.which("pg_ctl", path=search)
    if not (initdb and pg_ctl):
        pytest.skip("PostgreSQL server binaries not installed (scripts/install_system_deps.sh installs them)")
    as_user = ["runuser", "-u", "nobody", "--"] if os.geteuid() == 0 else []  # PostgreSQL refuses to run as root
    folder = Path(tempfile.mkdtemp(prefix="recbot-pg-"))  # not under tmp_path: its parents are private to this user
    if as_user:
        shutil.chown(folder, "nobody")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = folder / "data"
    subprocess.run([*as_user, initdb, "-D", str(data), "-A", "trust", "-U", "recbot"], check=True, capture_output=True)
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {folder}"
    start = [*as_user, pg_ctl, "-D", str(data), "-l", str(folder / "log"), "-o", options, "-w", "start"]
    subprocess.run(start, check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://recbot@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*as_user, pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def chroma_url(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A Chroma server (`chroma run`, shipped in the chromadb package) on 127.0.0.1, stopped by its PID afterwards."""
    import socket
    import sys
    import time
    import urllib.request

    chroma = Path(sys.executable).with_name("chroma")
    if not chroma.is_file():
        pytest.skip("the chroma command is not installed beside this Python")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    folder = tmp_path_factory.mktemp("chroma-server")
    log = (folder / "server.log").open("wb")
    command = [str(chroma), "run", "--path", str(folder / "data"), "--host", "127.0.0.1", "--port", str(port)]
    server = subprocess.Popen(command, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError(f"chroma run did not start: {(folder / 'server.log').read_text()[-2000:]}") from None
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
