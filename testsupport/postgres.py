"""A throwaway PostgreSQL server for the tests: Debian's postgresql package, a cluster in
a temporary folder, listening on 127.0.0.1 only.

    server = PostgresServer.start(folder)   initdb + pg_ctl start (as `postgres` when root)
    url = server.fresh_database()           a new, empty database's URL
    server.stop()

PostgreSQL refuses to run as root, and CI runs as root: then the cluster's files belong to
the `postgres` system user (the package creates it) and its programs run as that user
through `runuser`. The server trusts connections from this machine only (`-A trust` with
`listen_addresses=127.0.0.1`), so the tests need no password. Durability is off
(`fsync=off`): the tests kill the server with it, never the machine.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from testsupport.ports import free_port

INSTALL = "apt-get install -y postgresql (Debian's package; .ci/run installs it)"


def binaries() -> Path:
    """The folder of initdb and pg_ctl (the newest PostgreSQL installed)."""
    root = Path("/usr/lib/postgresql")
    found = sorted(
        (p for p in root.glob("*/bin") if (p / "initdb").exists()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if not found:
        path = shutil.which("initdb")
        if path is None:
            raise RuntimeError(f"PostgreSQL is not installed: {INSTALL}")
        return Path(path).parent
    return found[-1]


@dataclass
class PostgresServer:
    folder: Path
    port: int
    bin: Path
    as_user: list[str]
    _names: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @classmethod
    def start(cls, folder: Path) -> PostgresServer:
        folder.mkdir(parents=True, exist_ok=True)
        as_user: list[str] = []
        if os.geteuid() == 0:
            # The cluster's files belong to `postgres`, and so must every folder above it
            # be passable to that user.
            shutil.chown(folder, "postgres", "postgres")
            folder.chmod(0o700)
            for parent in folder.parents:
                if parent == Path("/"):
                    break
                mode = parent.stat().st_mode
                if not mode & 0o001:
                    parent.chmod(mode | 0o001)
            as_user = ["runuser", "-u", "postgres", "--"]
        server = cls(folder, free_port(), binaries(), as_user)
        data = folder / "data"
        server._run(
            str(server.bin / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
            "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions",
        )  # fmt: skip
        options = (
            f"-p {server.port} -k {folder} -c listen_addresses=127.0.0.1"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            " -c max_connections=200"
        )
        server._run(
            str(server.bin / "pg_ctl"), "-D", str(data), "-o", options,
            "-l", str(folder / "server.log"), "-w", "-t", "60", "start",
        )  # fmt: skip
        return server

    def _run(self, *command: str) -> None:
        done = subprocess.run(
            [*self.as_user, *command], capture_output=True, text=True, cwd=self.folder
        )
        if done.returncode != 0:
            log = self.folder / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(
                f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}{done.stderr}{tail}"
            )

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def fresh_database(self) -> str:
        """A new empty database on the server; its URL."""
        name = f"t{os.getpid()}_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        return self.url(name)

    def stop(self) -> None:
        """Stop the server at once; if pg_ctl cannot, kill its postmaster."""
        data = self.folder / "data"
        try:
            self._run(str(self.bin / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        except RuntimeError:
            pid_file = data / "postmaster.pid"
            if pid_file.exists():
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(pid_file.read_text().split()[0]), signal.SIGKILL)
