"""Kill -9 a process in the middle of state-store work, again and again: the file must stay consistent."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from runtime.state import open_state, state_path

WORKER = Path(__file__).with_name("crash_worker.py")
QA_DEV = "QA -> Dev"


def run_and_kill(path: Path, rng: random.Random) -> None:
    proc = subprocess.Popen([sys.executable, str(WORKER), str(path)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # it has committed work and is busy writing
        assert line == "working\n", proc.stderr.read() if proc.stderr else line
        time.sleep(rng.uniform(0.05, 0.35))
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL


def check_consistent(path: Path) -> int:
    """Every invariant the worker's transactions promise; the number of messages noticed."""
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        queue = conn.execute("SELECT twin_id, seq, state, replica FROM queue ORDER BY twin_id, seq").fetchall()
        cursor = int(conn.execute("SELECT value FROM cursors WHERE instance = 'QA'").fetchone()[0])
        # enqueue and cursor advance are one transaction: every noticed change is queued, none twice
        ns = sorted(json.loads(r[3])["n"] for r in queue)
        assert ns == list(range(1, cursor + 1))
        by_twin: dict[int, list[tuple[int, str, int]]] = {}
        for twin_id, seq, state, replica in queue:
            by_twin.setdefault(twin_id, []).append((seq, state, json.loads(replica)["n"]))
        sent = dict(conn.execute("SELECT twin_id, replica FROM replicas WHERE kind = 'sent'").fetchall())
        applied = dict(conn.execute("SELECT twin_id, replica FROM replicas WHERE kind = 'applied'").fetchall())
        maps = dict(conn.execute("SELECT twin_id, count(*) FROM id_maps GROUP BY twin_id").fetchall())
        for twin_id, entries in by_twin.items():
            seqs = [s for s, _, _ in entries]
            assert seqs == list(range(1, len(seqs) + 1)), f"twin {twin_id}: gaps in {seqs}"
            states = [st for _, st, _ in entries]
            done = [n for _, st, n in entries if st == "done"]
            # order: done entries are a prefix of the twin's queue
            assert states[:len(done)] == ["done"] * len(done), states
            assert json.loads(sent[twin_id])["n"] == entries[-1][2]
            if done:
                assert json.loads(applied[twin_id])["n"] == done[-1]
                assert maps[twin_id] == len(done)
                key_a = conn.execute("SELECT key_a FROM twins WHERE id = ?", (twin_id,)).fetchone()[0]
                assert key_a == f"DEV-{twin_id}"
            else:
                assert twin_id not in applied and twin_id not in maps
        # claim reads only heads: each twin's first entry not done is one, and nothing else is
        heads = conn.execute("SELECT twin_id, seq FROM queue WHERE head = 1 ORDER BY twin_id").fetchall()
        firsts = [(t, next(s for s, st, _ in e if st != "done")) for t, e in sorted(by_twin.items())
                  if any(st != "done" for _, st, _ in e)]
        assert heads == firsts
        delivered = conn.execute("SELECT count(*) FROM events WHERE kind = 'delivered'").fetchone()[0]
        assert delivered == sum(1 for r in queue if r[2] == "done")
        unresolved = conn.execute("SELECT twin_id FROM create_intents WHERE key IS NULL").fetchall()
        assert len(unresolved) == len({r[0] for r in unresolved})  # at most one open intent per twin
        return cursor
    finally:
        conn.close()


def test_sigkill_at_random_moments_leaves_a_consistent_store(tmp_path: Path) -> None:
    path = state_path(tmp_path)
    rng = random.Random(20241127)
    noticed = 0
    for _ in range(4):
        run_and_kill(path, rng)
        now_noticed = check_consistent(path)
        assert now_noticed > noticed  # each life made progress and kept what it committed
        noticed = now_noticed
    with open_state(path) as store:  # it opens, and work goes on where it stopped
        assert store.release_claims() >= 0
        entries = store.claim(limit=100)
        for entry in entries:
            store.complete(entry.id)
        assert store.queue_counts()["in_progress"] == 0
