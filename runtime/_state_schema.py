"""The SQLite state file's schema, versioned by `PRAGMA user_version`, and the migrations that reach it."""

from __future__ import annotations

__all__ = ["MIGRATIONS"]

# MIGRATIONS[n] takes a file from version n to n + 1 (runtime._sqlite.migrate runs them).
MIGRATIONS: list[tuple[str, ...]] = [
    (
        # Instances are stored in name order (a < b), so a pair reads the same from either side;
        # a side's key is NULL until that issue exists. One active twin per issue, enforced here.
        """CREATE TABLE twins (
            id          INTEGER PRIMARY KEY,
            instance_a  TEXT NOT NULL,
            key_a       TEXT,
            instance_b  TEXT NOT NULL,
            key_b       TEXT,
            status      TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'unlinked')),
            created_at  TEXT NOT NULL,
            updated_at  TEXT NOT NULL,
            CHECK (instance_a < instance_b)
        )""",
        "CREATE UNIQUE INDEX twins_active_a ON twins (instance_a, key_a) WHERE status = 'active' AND key_a IS NOT NULL",
        "CREATE UNIQUE INDEX twins_active_b ON twins (instance_b, key_b) WHERE status = 'active' AND key_b IS NOT NULL",
        """CREATE TABLE replicas (
            twin_id     INTEGER NOT NULL REFERENCES twins (id),
            direction   TEXT NOT NULL,
            kind        TEXT NOT NULL CHECK (kind IN ('sent', 'applied')),
            replica     TEXT NOT NULL,
            hash        TEXT NOT NULL,
            recorded_at TEXT NOT NULL,
            PRIMARY KEY (twin_id, direction, kind)
        )""",
        # id_a lives on the twin's instance_a, id_b on instance_b.
        """CREATE TABLE id_maps (
            twin_id     INTEGER NOT NULL REFERENCES twins (id),
            kind        TEXT NOT NULL,
            id_a        TEXT NOT NULL,
            id_b        TEXT NOT NULL,
            created_at  TEXT NOT NULL,
            PRIMARY KEY (twin_id, kind, id_a),
            UNIQUE (twin_id, kind, id_b)
        )""",
        """CREATE TABLE queue (
            id              INTEGER PRIMARY KEY,
            message_id      TEXT NOT NULL UNIQUE,
            twin_id         INTEGER NOT NULL REFERENCES twins (id),
            direction       TEXT NOT NULL,
            source_instance TEXT NOT NULL,
            source_key      TEXT NOT NULL,
            seq             INTEGER NOT NULL,
            replica         TEXT NOT NULL,
            state           TEXT NOT NULL DEFAULT 'pending'
                            CHECK (state IN ('pending', 'in_progress', 'done', 'error')),
            reason          TEXT,
            attempts        INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT,
            created_at      TEXT NOT NULL,
            updated_at      TEXT NOT NULL,
            UNIQUE (twin_id, direction, seq)
        )""",
        "CREATE INDEX queue_open ON queue (state, next_attempt_at) WHERE state != 'done'",
        # The last number handed out survives purges of done entries, so a twin's numbers never repeat.
        """CREATE TABLE sequences (
            twin_id     INTEGER NOT NULL REFERENCES twins (id),
            direction   TEXT NOT NULL,
            last_seq    INTEGER NOT NULL,
            PRIMARY KEY (twin_id, direction)
        )""",
        """CREATE TABLE create_intents (
            marker      TEXT PRIMARY KEY,
            twin_id     INTEGER NOT NULL REFERENCES twins (id),
            instance    TEXT NOT NULL,
            created_at  TEXT NOT NULL,
            key         TEXT,
            resolved_at TEXT
        )""",
        "CREATE INDEX create_intents_open ON create_intents (twin_id, instance) WHERE key IS NULL",
        """CREATE TABLE cursors (
            instance    TEXT PRIMARY KEY,
            value       TEXT NOT NULL,
            updated_at  TEXT NOT NULL
        )""",
        """CREATE TABLE flags (
            name        TEXT PRIMARY KEY,
            value       TEXT NOT NULL
        )""",
        """CREATE TABLE events (
            id          INTEGER PRIMARY KEY,
            at          TEXT NOT NULL,
            level       TEXT NOT NULL,
            kind        TEXT NOT NULL,
            message     TEXT NOT NULL,
            twin_id     INTEGER,
            data        TEXT
        )""",
        "CREATE INDEX events_twin ON events (twin_id, id)",
    ),
    (
        # Webhook deliveries (`rulelang serve`): a tracker may send one notice twice, so its delivery id is
        # remembered across restarts; a notice is acknowledged once recorded here and `pending` until the
        # issue it names has been noticed.
        """CREATE TABLE webhook_deliveries (
            delivery_id TEXT PRIMARY KEY,
            instance    TEXT NOT NULL,
            issue_key   TEXT NOT NULL,
            event       TEXT NOT NULL,
            state       TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done')),
            received_at TEXT NOT NULL,
            done_at     TEXT
        )""",
        "CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (received_at) WHERE state = 'pending'",
    ),
    (
        # Only the first open entry of a twin and direction (lowest seq, not done) may be claimed. Which one
        # that is depends on other rows, so no index over the entry's own columns can leave the others out:
        # `head` marks it, kept by the queue's writes (runtime/_state_queue.py), and claim reads only heads,
        # so its cost follows what is claimable, not how much waits behind it or is not due yet.
        "ALTER TABLE queue ADD COLUMN head INTEGER NOT NULL DEFAULT 0 CHECK (head IN (0, 1))",
        """UPDATE queue SET head = 1 WHERE state != 'done' AND NOT EXISTS (SELECT 1 FROM queue e
            WHERE e.twin_id = queue.twin_id AND e.direction = queue.direction AND e.seq < queue.seq
            AND e.state != 'done')""",
        "CREATE UNIQUE INDEX queue_heads ON queue (twin_id, direction) WHERE head = 1",
        # Fresh entries (next_attempt_at NULL) in id order; retries and leases by when they are due.
        "CREATE INDEX queue_ready ON queue (direction, next_attempt_at, id) "
        "WHERE head = 1 AND state IN ('pending', 'in_progress')",
        "DROP INDEX queue_open",  # claim was its one reader
        # Listing the entries in one state (the engine's open entries each pass, `queue`, `status`) by index,
        # however many done entries the queue keeps.
        "CREATE INDEX queue_state ON queue (state, id)",
        "CREATE INDEX queue_twin ON queue (twin_id, id)",
    ),
]

