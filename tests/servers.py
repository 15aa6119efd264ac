"""Real servers on 127.0.0.1 for tests and benchmarks: a throw-away PostgreSQL and a Chroma server, each started here
and stopped by its own PID (or pg_ctl) when the `with` block ends."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path


class Unavailable(RuntimeError):
    """The server's binaries are not installed here."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def postgres() -> Iterator[str]:
    """A SQLAlchemy URL of a fresh PostgreSQL cluster."""
    # Debian keeps the server binaries off PATH, under /usr/lib/postgresql/<version>/bin
    search = os.pathsep.join([os.environ.get("PATH", ""), *sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)])
    initdb, pg_ctl = shutil.which("initdb", path=search), shutil.which("pg_ctl", path=search)
    if not (initdb and pg_ctl):
        raise Unavailable("PostgreSQL server binaries not installed (scripts/install_system_deps.sh installs them)")
    as_user = ["runuser", "-u", "nobody", "--"] if os.geteuid() == 0 else []  # PostgreSQL refuses to run as root
    folder = Path(tempfile.mkdtemp(prefix="recbot-pg-"))  # not under a test's tmp_path: its parents are private to this user
    if as_user:
        shutil.chown(folder, "nobody")
    port, data = free_port(), folder / "data"
    subprocess.run([*as_user, initdb, "-D", str(data), "-A", "trust", "-U", "recbot"], check=True, capture_output=True)
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {folder}"
    subprocess.run(
        [*as_user, pg_ctl, "-D", str(data), "-l", str(folder / "log"), "-o", options, "-w", "start"], check=True, capture_output=True
    )
    try:
        yield f"postgresql+psycopg://recbot@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*as_user, pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def chroma(folder: Path) -> Iterator[str]:
    """The URL of a Chroma server keeping its data in `folder`."""
    command = Path(sys.executable).with_name("chroma")
    if not command.is_file():
        raise Unavailable("the chroma command is not installed beside this Python")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with (folder / "server.log").open("wb") as log:
        server = subprocess.Popen(
            [str(command), "run", "--path", str(folder / "data"), "--host", "127.0.0.1", "--port", str(port)], stdout=log, stderr=log
        )
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
