"""SQLite files the way rulelang keeps them: WAL, full sync, foreign keys, and nestable write transactions.

Why WAL with synchronous=FULL: WAL keeps readers (`rulelang status` while a
sync runs, the CLI editing a local tracker) off the writer's back, and a
commit is one append.  NORMAL would survive a killed process just as well,
but after a power cut or an OS crash it may lose the last commits.  The engine
tells others "done" right after committing (an inbox acknowledges a peer's
message; a queue entry marked done means the comment will not be posted
again), so a commit must mean on disk.  FULL costs one fsync per commit,
small beside a tracker's HTTP round trip.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rulelang.errors import ConfigError

__all__ = ["SQLiteFile", "migrate"]


class SQLiteFile:
    """One connection to one file, shared by the threads of a process (calls are serialised).

    `transaction()` is BEGIN IMMEDIATE … COMMIT; inside it, a nested
    `transaction()` is a savepoint, so a helper that is atomic on its own stays
    atomic as part of a larger step. A helper that writes once (its checks come
    first) needs no savepoint: SQLite undoes a failed statement by itself, so
    it asks for `transaction(savepoint=False)`, and `run` writes straight into
    the caller's transaction.
    """

    def __init__(self, path: str | Path, *, busy_timeout: float = 30.0) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._depth = 0
        # Bumped whenever what a transaction has read may stop being true: a transaction begins or ends, or
        # any part of one is rolled back. Callers key caches on it (see `epoch`).
        self._epoch = 0
        # isolation_level=None: no implicit transactions; BEGIN/COMMIT are issued here and nowhere else.
        self.conn = sqlite3.connect(self.path, isolation_level=None, timeout=busy_timeout,
                                    check_same_thread=False)
        self.conn.row_factory = sqlite3.Row
        try:
            self.conn.execute("PRAGMA journal_mode = WAL")
            self.conn.execute("PRAGMA synchronous = FULL")
            self.conn.execute("PRAGMA foreign_keys = ON")
        except BaseException:
            self.conn.close()
            raise

    @contextmanager
    def transaction(self, *, savepoint: bool = True) -> Iterator[sqlite3.Connection]:
        with self._lock:
            depth = self._depth
            if depth and not savepoint:
                yield self.conn  # the caller's transaction undoes it all, or a failed statement undoes itself
                return
            savepoint = f"sp{depth}"
            # IMMEDIATE takes the write lock up front: two processes never deadlock upgrading a read.
            self.conn.execute("BEGIN IMMEDIATE" if depth == 0 else f"SAVEPOINT {savepoint}")
            self._depth += 1
            if depth == 0:
                self._epoch += 1
            try:
                yield self.conn
            except BaseException:
                self._depth = depth
                self._epoch += 1
                # SQLite may already have rolled back by itself (disk full, I/O error).
                if self.conn.in_transaction:
                    if depth == 0:
                        self.conn.execute("ROLLBACK")
                    else:
                        self.conn.execute(f"ROLLBACK TO {savepoint}")
                        self.conn.execute(f"RELEASE {savepoint}")
                raise
            self._depth = depth
            if depth:
                self.conn.execute(f"RELEASE {savepoint}")
                return
            self._epoch += 1
            try:
                self.conn.execute("COMMIT")
            except BaseException:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise

    @property
    def in_transaction(self) -> bool:
        return self._depth > 0

    @property
    def epoch(self) -> int | None:
        """While a write transaction is open, a number that stays the same exactly as long as nothing read in
        it can have changed behind the caller's back: no other process writes (BEGIN IMMEDIATE holds the
        lock) and nothing has been rolled back. None outside a transaction, where another process may write."""
        return self._epoch if self._depth else None

    def rows(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self.conn.execute(sql, tuple(params)).fetchall()

    def one(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Row | None:
        rows = self.rows(sql, params)
        return rows[0] if rows else None

    def run(self, sql: str, params: Iterable[Any] = ()) -> int:
        """One write statement in its own (or the caller's) transaction; the number of rows changed."""
        with self.transaction(savepoint=False) as conn:
            return conn.execute(sql, tuple(params)).rowcount

    def close(self) -> None:
        with self._lock:
            self.conn.close()


def migrate(conn: sqlite3.Connection, where: str, migrations: list[tuple[str, ...]]) -> int:
    """Bring a file to the newest schema, one step per transaction; the version reached.

    `migrations[n]` takes a file from `PRAGMA user_version` n to n + 1. Append, never edit a
    shipped step: files in the field are at every version already released.
    """
    known = len(migrations)
    while True:
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Read inside the write lock: another process may have migrated while we waited.
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > known:
                raise ConfigError(f"{where} was written by a newer rulelang (schema version {version}; "
                                  f"this one knows up to {known}): upgrade rulelang", code="K793")
            if version == known:
                conn.execute("COMMIT")
                return version
            for statement in migrations[version]:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version + 1}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
