"""The README's dry-run walk-through stays true: its commands give the output it shows."""

from __future__ import annotations

import json
import pathlib

from click.testing import CliRunner

from rulelang.cli import main

ROOT = pathlib.Path(__file__).resolve().parents[1]
RULES = ROOT / "examples" / "rules"


def _run(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_the_saved_replica_is_what_qa_outgoing_sends() -> None:
    out = _run("dry-run", str(RULES / "qa-outgoing.rules"), "--issue", str(RULES / "qa-bug.json"), "--format", "json")
    replica = json.loads(out)["replica"]
    assert replica == json.loads((RULES / "qa-bug.replica.json").read_text(encoding="utf-8"))
    assert "attachments" not in replica  # screenshots stay home
    assert [c["id"] for c in replica["comments"]] == ["c1"]  # the internal comment stays home


def test_the_readme_shows_the_incoming_dry_run_output() -> None:
    out = _run("dry-run", str(RULES / "dev-incoming.rules"), "--issue", str(RULES / "qa-bug.replica.json"),
               "--local", str(RULES / "dev-twin.json"))
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("--local examples/rules/dev-twin.json\n", 1)[1].split("```", 1)[0]
    assert out == block


def test_the_readme_opens_with_the_install_and_test_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = [b.split("```", 1)[0].strip() for b in readme.split("```\n")[1::2]][:2]
    assert blocks[0].endswith("rulelang sync examples/qa-dev")
    assert blocks[1].endswith("python -m pytest")
    assert "python -m pytest -p no:cacheprovider" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
