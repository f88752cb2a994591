"""A process that works the state store like the engine does, forever, until the crash test SIGKILLs it.

Each round notices a change (twin + enqueue + sent replica + cursor, one transaction) and delivers
what it can (create intent, link, id map, applied replica, done, one transaction per entry).
"""

from __future__ import annotations

import sys

from runtime.state import open_state

QA_DEV = "QA -> Dev"


def main(path: str) -> None:
    store = open_state(path)
    store.release_claims()  # as the engine does at start: nobody else works this queue
    n = int(store.cursor("QA") or 0)
    announced = False
    while True:
        n += 1
        with store.transaction():
            twin = store.ensure_twin("QA", f"QA-{n % 5}", "Dev")
            store.enqueue(message_id=f"m{n}", twin_id=twin.id, direction=QA_DEV, source_instance="QA",
                          source_key=f"QA-{n % 5}", replica={"n": n, "pad": "x" * (n % 300)})
            store.record_replica(twin.id, QA_DEV, "sent", {"n": n, "pad": "x" * (n % 300)})
            store.set_cursor("QA", str(n))
        for entry in store.claim(limit=2):
            twin = store.get_twin(entry.twin_id)
            assert twin is not None
            marker = store.create_intent(twin.id, "Dev") if twin.key_on("Dev") is None else None
            with store.transaction():
                if marker is not None:
                    store.resolve_create(marker, f"DEV-{twin.id}")
                    store.link_twin(twin.id, "Dev", f"DEV-{twin.id}")
                store.map_ids(twin.id, "comments", "Dev", {f"c{entry.replica['n']}": f"d{entry.replica['n']}"})
                store.record_replica(twin.id, QA_DEV, "applied", entry.replica)
                store.complete(entry.id)
                store.log("delivered", f"message {entry.message_id}", twin_id=twin.id)
        if not announced and n % 20 == 0:
            print("working", flush=True)
            announced = True


if __name__ == "__main__":
    main(sys.argv[1])
