"""Runs the golden cases under tests/cases/syntax and tests/cases/check (format: tests/cases/README.md)."""

from __future__ import annotations

import pathlib
import re
from collections import Counter
from dataclasses import dataclass, field

import pytest

from rulelang.codes import CODES
from rulelang.program import load

CASES = pathlib.Path(__file__).parent / "cases"
FILES = sorted([*CASES.glob("syntax/*.rules"), *CASES.glob("check/*.rules")])

_EXPECT = re.compile(r'\s*([A-Z]\d{3})(?:@(\d+))?\s+"((?:[^"\\]|\\.)*)"')
_OPTION = re.compile(r"^\s*//!\s*(.*)$")


@dataclass
class Chunk:
    start: int  # line number of the chunk's first line in the golden file
    lines: list[str]  # as written, with their ### marks
    code: list[str] = field(default_factory=list)  # the lines without marks
    expected: list[tuple[int, str, int | None, str]] = field(default_factory=list)  # (line, code, col, message)
    options: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for i, line in enumerate(self.lines, start=1):
            text, sep, marks = line.partition("###")
            self.code.append(text.rstrip() if sep else text)
            if sep:
                pos = 0
                while pos < len(marks.rstrip()):
                    m = _EXPECT.match(marks, pos)
                    if not m:
                        raise ValueError(f"line {self.start + i - 1}: bad expectation {marks[pos:]!r}")
                    message = re.sub(r"\\(.)", r"\1", m.group(3))
                    self.expected.append((i, m.group(1), int(m.group(2)) if m.group(2) else None, message))
                    pos = m.end()
            opt = _OPTION.match(text)
            if opt:
                for item in opt.group(1).split():
                    key, _, value = item.partition("=")
                    self.options[key] = value

    def run(self) -> list[tuple[int, str, int, str]]:
        instances = self.options.get("instances")
        checked = load("\n".join(self.code) + "\n", "case.rules", kind=self.options.get("kind"),
                       instances=instances.split(",") if instances else None)
        return [(d.span.line if d.span else 0, d.code, d.span.col if d.span else 0, d.message)
                for d in checked.diagnostics]


def read_chunks(path: pathlib.Path) -> list[Chunk]:
    chunks, current, start = [], [], 1
    for number, line in enumerate(path.read_text(encoding="utf-8").split("\n"), start=1):
        if line == "---":
            chunks.append(Chunk(start, current))
            current, start = [], number + 1
        else:
            current.append(line)
    chunks.append(Chunk(start, current))
    return chunks


def mismatches(chunk: Chunk, actual: list[tuple[int, str, int, str]]) -> list[str]:
    left = list(actual)
    problems = []
    for line, code, col, message in chunk.expected:
        hit = next((a for a in left if a[0] == line and a[1] == code and a[3] == message
                    and (col is None or a[2] == col)), None)
        if hit is None:
            problems.append(f"  line {chunk.start + line - 1}: missing {code}{f'@{col}' if col else ''} "
                            f"\"{message}\"")
        else:
            left.remove(hit)
    for line, code, col, message in left:
        problems.append(f"  line {chunk.start + line - 1}: unexpected {code}@{col} \"{message}\"")
    return problems


def _mark(code: str, message: str) -> str:
    return f'{code} "' + message.replace("\\", "\\\\").replace('"', '\\"') + '"'


def rewrite(chunk: Chunk, actual: list[tuple[int, str, int, str]]) -> list[str]:
    by_line: dict[int, list] = {}
    for line, code, _col, message in actual:
        by_line.setdefault(max(line, 1), []).append((code, message))
    out = []
    for i, (raw, code) in enumerate(zip(chunk.lines, chunk.code, strict=True), start=1):
        want = Counter((c, m) for ln, c, _, m in chunk.expected if ln == i)
        got = Counter(by_line.get(i, []))
        if want == got:
            out.append(raw)
        elif got:
            out.append(code + "   ### " + " ".join(_mark(c, m) for c, m in by_line[i]))
        else:
            out.append(code)
    return out


@pytest.mark.parametrize("path", FILES, ids=[f"{p.parent.name}/{p.name}" for p in FILES])
def test_golden(path: pathlib.Path, update_goldens: bool) -> None:
    chunks = read_chunks(path)
    report, new_lines = [], []
    for chunk in chunks:
        actual = chunk.run()
        problems = mismatches(chunk, actual)
        if problems:
            report.append(f"chunk at line {chunk.start}:\n" + "\n".join(problems))
        new_lines.append(rewrite(chunk, actual) if update_goldens else chunk.lines)
    if update_goldens:
        path.write_text("\n---\n".join("\n".join(lines) for lines in new_lines), encoding="utf-8")
        return
    assert not report, f"{path.relative_to(CASES)}:\n" + "\n".join(report)


def test_every_code_has_a_golden_case() -> None:
    """Each check code is exercised by a golden chunk; each syntax code a text file can raise, too."""
    seen = set()
    for path in FILES:
        for chunk in read_chunks(path):
            seen.update(code for _, code, _, _ in chunk.expected)
    # S109 (encoding, NUL) and S110 (size) come from bytes and huge inputs: tests/front/test_front_bad_input.py.
    # S100 is the fallback no known input reaches. C310 comes from the splitter, R118 from compiling or
    # running a program as the wrong kind: tests/split and tests/runtime.
    wanted = set(CODES) - {"S100", "S109", "S110", "C310", "R118"}
    assert wanted - seen == set()
    assert seen <= set(CODES)
