"""Sync throughput, local tracker -> local tracker: issues per second end to end, for 1,000 issues (and 10,000
with RULELANG_BENCH_LARGE=1), beside a hand-written copy loop doing the same field copies between the same
two kinds of trackers without the engine, in the same run.

Each issue has a summary, a description, a priority, two labels and three comments (one internal); the rules
copy those fields and the public comments one way (QA -> Dev). The engine runs as `rulelang sync` does: rules
in worker processes (2 workers, batches of 50), the SQLite state store, durable queue and id maps.
Every run is a fresh process, so its peak RSS is its own; the engine's time is split into rules (CPU inside
the workers), isolation (the rest of the time the engine waited for the workers), the state store, the
connectors (both trackers), and the engine's own code. The engine writes one batch while the workers run
the next one's rules: rule time it did not wait for is reported as `overlapped` (part of `rules`, not of
the pass's time). Before any number is reported, both runs' Dev trackers are compared field by field.
The pass is timed from `Engine.sync()` to its return: compiling the rules, starting the workers (their fork
server's imports included) and opening the trackers are in it; the engine process's own imports are not (they
are reported beside, as `imports_before_the_pass_s`). Every child keeps bytecode in a scratch
PYTHONPYCACHEPREFIX, as an installed package has it, even on a machine that sets PYTHONDONTWRITEBYTECODE
(where each import, the workers' included, would otherwise compile its module from source every time).

The folders go to RULELANG_BENCH_DIR, else /dev/shm when there is one: each local-tracker write is an fsync,
which on a slow disk would measure the disk (about 4 ms per write here), not the engine.
Run: `RULELANG_BENCH_LARGE=1 pytest benchmarks/test_bench_sync.py -s` (numbers are printed and kept in the
benchmark's extra_info). Target: >= 500 issues/s end to end.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

import pytest

SIZES = [1000] + ([10_000] if os.environ.get("RULELANG_BENCH_LARGE") == "1" else [])
FIELDS = ("type", "summary", "description", "priority", "labels")

OUTGOING = """\
replica.key         = issue.key
replica.type        = issue.type
replica.summary     = issue.summary
replica.description = issue.description
replica.priority    = issue.priority
replica.labels      = issue.labels
replica.comments    = issue.comments.filter(c -> not c.internal).map(c -> {id: c.id, body: c.body})
"""
INCOMING = """\
if first_sync {
    issue.type = replica.type
}
issue.summary     = replica.summary
issue.description = replica.description
issue.priority    = replica.priority
issue.labels      = replica.labels
issue.comments    = replica.comments
"""
CONNECTION = """\
name = "bench"
[instances.QA]
connector = "local"
path = "qa"
project = "QA"
rules = { outgoing = "out.rules", incoming = "in.rules" }
[instances.Dev]
connector = "local"
path = "dev"
project = "DEV"
rules = { outgoing = "out.rules", incoming = "in.rules" }
[sync]
"QA -> Dev" = "automatic"
[[triggers]]
instance = "QA"
query = ''
[limits]
isolate = true
workers = 2
batch = 50
"""


# ---- the three steps, each run in its own process ----

def seed(folder: str, n: str) -> None:
    """n issues on QA, each written in one transaction."""
    from connectors.local import LocalTracker
    from runtime.changes import AddItem, ChangeSet, SetField

    with LocalTracker(pathlib.Path(folder) / "qa", project="QA") as qa:
        for i in range(int(n)):
            ops = [SetField(("type",), ("Bug", "Task", "Story")[i % 3]), SetField(("summary",), f"Issue {i}"),
                   SetField(("description",), f"Steps to reproduce issue {i}.\n" * 3),
                   SetField(("priority",), ("High", "Medium", "Low")[i % 3]), SetField(("labels",), ["bench", f"l{i % 7}"])]
            ops += [AddItem("comments", f"s{i}-{k}", {"body": f"comment {k} on issue {i}", "internal": k == 2})
                    for k in range(3)]
            qa.apply(None, ChangeSet(True, tuple(ops)))


def copy_loop(src_dir: str, dst_dir: str) -> dict:
    """The baseline: the same copies, written by hand, straight from one tracker to the other."""
    from connectors.local import LocalTracker
    from runtime.changes import AddItem, ChangeSet, SetField

    start = time.perf_counter()
    with LocalTracker(src_dir) as src, LocalTracker(dst_dir, project="DEV") as dst:
        for issue in src.search():
            ops = [SetField((f,), issue[f]) for f in FIELDS]
            ops += [AddItem("comments", c["id"], {"body": c["body"]}) for c in issue["comments"] if not c["internal"]]
            dst.apply(None, ChangeSet(True, tuple(ops)))
    return {"seconds": time.perf_counter() - start}


def warm() -> None:
    """Import what the engine and its workers import, so that their bytecode is compiled before any timing."""
    import rulelang._connectors  # noqa: F401
    import runtime._preload  # noqa: F401
    import runtime.engine  # noqa: F401


def engine(folder: str) -> dict:
    start = time.perf_counter()
    # What `rulelang sync` has imported before a pass begins (the CLI imports its commands, the compiler
    # among them): the pass's clock then measures the sync, not Python loading modules. Reported beside.
    import runtime.sandbox  # noqa: F401  (the rules compiler, which `compile_rules` loads on first use)
    from rulelang._connectors import SPECS, build_connector
    from runtime.config import load_config
    from runtime.engine import Engine
    from runtime.state import open_state, state_path

    imports = time.perf_counter() - start
    config = load_config(folder, connectors=SPECS)
    with Engine(config, open_state(state_path(config.folder)), build_connector) as e:
        start = time.perf_counter()
        report = e.sync()
        seconds = time.perf_counter() - start
    assert report.total.applied == report.total.created and not report.failed, report.to_json()
    return {"seconds": seconds, "imports": imports, "created": report.total.created, "timings": report.timings}


def _child(step: str, *args: str, pycache: pathlib.Path | None = None) -> dict:
    """Run a step in a fresh interpreter (this file as a script); its result, with its peak RSS in MiB.

    With `pycache`, the child keeps compiled bytecode there (PYTHONPYCACHEPREFIX), as an installed package
    has it, even where PYTHONDONTWRITEBYTECODE is set; the source tree is not written to."""
    env = dict(os.environ)
    if pycache is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
    out = subprocess.run([sys.executable, __file__, step, *args], check=True, capture_output=True, text=True,
                         env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _same_copies(engine_dev: pathlib.Path, loop_dev: pathlib.Path, n: int) -> None:
    from connectors.local import LocalTracker

    def view(path: pathlib.Path) -> dict:
        with LocalTracker(path) as t:
            return {i["summary"]: ([i[f] for f in FIELDS], [c["body"] for c in i["comments"]]) for i in t.list_issues()}

    a, b = view(engine_dev), view(loop_dev)
    assert len(a) == n and a == b


@pytest.mark.parametrize("n", SIZES)
def test_sync_throughput(benchmark, n):
    base = os.environ.get("RULELANG_BENCH_DIR") or ("/dev/shm" if os.access("/dev/shm", os.W_OK) else None)
    with tempfile.TemporaryDirectory(dir=base, prefix="rulelang-bench-") as tmp:
        folder = pathlib.Path(tmp) / "conn"
        folder.mkdir()
        (folder / "connection.toml").write_text(CONNECTION)
        (folder / "out.rules").write_text(OUTGOING)
        (folder / "in.rules").write_text(INCOMING)
        pycache = pathlib.Path(tmp) / "pycache"
        _child("seed", str(folder), str(n), pycache=pycache)
        _child("warm", pycache=pycache)
        loop = _child("copy_loop", str(folder / "qa"), str(pathlib.Path(tmp) / "loop-dev"), pycache=pycache)
        result = benchmark.pedantic(_child, args=("engine", str(folder)), kwargs={"pycache": pycache},
                                    rounds=1, iterations=1)
        _same_copies(folder / "dev", pathlib.Path(tmp) / "loop-dev", n)
    t = result["timings"]
    other = t["total"] - (t["rules"] - t.get("overlapped", 0.0)) - t["isolation"] - t["state"] - t["connector"]
    numbers = {
        "issues": n, "engine_issues_per_s": round(n / result["seconds"]),
        "copy_loop_issues_per_s": round(n / loop["seconds"]), "ratio_engine_to_loop": round(result["seconds"] / loop["seconds"], 2),
        "split_s": {k: round(v, 3) for k, v in t.items()} | {"engine": round(other, 3)},
        "imports_before_the_pass_s": round(result["imports"], 3),
        "peak_mib": {"engine": round(result["peak_mib"], 1), "copy_loop": round(loop["peak_mib"], 1)},
        "dir": base or tempfile.gettempdir(),
    }
    benchmark.extra_info.update(numbers)
    print("\n" + json.dumps(numbers, indent=2))
    assert result["created"] == n




if __name__ == "__main__":
    import resource

    result = globals()[sys.argv[1]](*sys.argv[2:]) or {}
    result["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))
