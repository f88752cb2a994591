"""Run by test_crash.py in a subprocess: sync a connection folder until nothing is left (or be killed trying).

It prints `ready`, then `tick` at each step of progress (so the test can kill it at a chosen point of the
work however fast this machine is), then `done N` with N entries in error.
"""

from __future__ import annotations

import sys

from rulelang._connectors import SPECS, build_connector
from runtime.config import load_config
from runtime.engine import Engine
from runtime.state import open_state, state_path


def main(folder: str) -> int:
    config = load_config(folder, connectors=SPECS)
    def tick(_stage: str, _advance: int, _total: int | None) -> None:
        print("tick", flush=True)

    with Engine(config, open_state(state_path(config.folder)), build_connector, progress=tick) as engine:
        print("ready", flush=True)
        for _ in range(20):
            report = engine.sync()
            if report.total.sent == 0 and report.total.applied == 0 and report.waiting == 0:
                break
        print("done", report.in_error, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
