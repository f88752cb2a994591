"""Codegen goldens: tests/cases/codegen/<name>.rules beside <name>.py, the generated Python (ast.unparse)."""

from __future__ import annotations

import importlib.util
import pathlib
import sys

import pytest

from rulelang.codegen import compile_source


def _root_conftest():
    """tests/conftest.py by path: `from conftest import …` can resolve to another folder's conftest."""
    name = "rulelang_tests_root_conftest"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, pathlib.Path(__file__).resolve().parents[1] / "conftest.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sys.modules[name] = module
    return sys.modules[name]


CASES, check_golden = _root_conftest().CASES, _root_conftest().check_golden

CODEGEN = CASES / "codegen"
NAMES = sorted(p.stem for p in CODEGEN.glob("*.rules"))


@pytest.mark.parametrize("name", NAMES)
def test_codegen_golden(name: str, update_goldens: bool) -> None:
    source = (CODEGEN / f"{name}.rules").read_text(encoding="utf-8")
    compiled = compile_source(source, f"{name}.rules")
    check_golden(CODEGEN / f"{name}.py", compiled.python(), update_goldens)


def test_goldens_exist() -> None:
    assert len(NAMES) >= 4
