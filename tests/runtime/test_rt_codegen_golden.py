"""Codegen goldens: tests/cases/codegen/<name>.rules beside <name>.py, the generated Python (ast.unparse)."""

from __future__ import annotations

import pytest
from goldens import CASES, check_golden

from rulelang.codegen import compile_source

CODEGEN = CASES / "codegen"
NAMES = sorted(p.stem for p in CODEGEN.glob("*.rules"))


@pytest.mark.parametrize("name", NAMES)
def test_codegen_golden(name: str, update_goldens: bool) -> None:
    source = (CODEGEN / f"{name}.rules").read_text(encoding="utf-8")
    compiled = compile_source(source, f"{name}.rules")
    check_golden(CODEGEN / f"{name}.py", compiled.python(), update_goldens)


def test_goldens_exist() -> None:
    assert len(NAMES) >= 4
