"""Hypothesis strategies for random connection scripts (typed, so that no run hits a run-time error but an
exceeded budget: a loop may double a list every turn) and issues."""

from __future__ import annotations

from hypothesis import strategies as st

__all__ = ["scripts", "issues", "INSTANCES"]

INSTANCES = ("Blue", "Green")
WORDS = ["a", "b", "Open", "Done", "bug", "ui"]
_TEXT_FIELDS = ["summary", "status", "description"]


class _Gen:
    """Draws one script. Types: "text", "bool", "list" (of text). Every expression is total on the issues
    `issues()` makes (text fields may be null, so reads of them come with `??`)."""

    def __init__(self, draw) -> None:
        self.draw = draw
        self.scopes: list[list[tuple[str, str]]] = [[]]
        self.count = 0
        self.lambda_vars: list[str] = []
        self.quote = '"'  # single quotes inside `${…}`

    def pick(self, options):
        return self.draw(st.sampled_from(options))

    def chance(self, p: float = 0.5) -> bool:
        return self.draw(st.floats(0, 1)) < p

    def vars_of(self, ty: str) -> list[str]:
        return [name for scope in self.scopes for name, t in scope if t == ty] + \
            (self.lambda_vars if ty == "text" else [])

    def inst(self) -> str:
        return self.pick(list(INSTANCES))

    def word(self) -> str:
        return self.quote + self.pick(WORDS) + self.quote

    def interp(self, depth: int) -> str:
        saved, self.quote = self.quote, "'"
        try:
            return self.text(depth)
        finally:
            self.quote = saved

    # ---- expressions

    def text(self, depth: int) -> str:
        opts = ["lit", "field", "custom"]
        if self.vars_of("text"):
            opts.append("var")
        if depth > 0:
            opts += ["plus", "lower", "cond", "join"]
            if self.quote == '"':
                opts += ["interp", "table"]
        k = self.pick(opts)
        if k == "lit":
            return self.word()
        if k == "field":
            return f"({self.inst()}.issue.{self.pick(_TEXT_FIELDS)} ?? {self.word()})"
        if k == "custom":
            q = self.quote
            return f'({self.inst()}.issue.custom[{q}{self.pick(["k", "m"])}{q}] ?? {self.word()})'
        if k == "var":
            return self.pick(self.vars_of("text"))
        d = depth - 1
        if k == "interp":
            return f'"<${{{self.interp(d)}}}>"'
        if k == "plus":
            return f"{self.text(d)} + {self.text(d)}"
        if k == "lower":
            return f"({self.text(d)}).lower()"
        if k == "cond":
            return f"({self.text(d)} if {self.boolean(d)} else {self.text(d)})"
        if k == "table":
            return f'({{"a": "x", "Open": "Done", "bug": "ui"}}[{self.text(d)}] ?? {self.text(d)})'
        return f"join({self.lst(d)}, {self.quote}-{self.quote})"

    def boolean(self, depth: int) -> str:
        opts = ["lit", "eq"]
        if self.vars_of("bool"):
            opts.append("var")
        if depth > 0:
            opts += ["and", "or", "not", "in", "contains", "any"]
        k = self.pick(opts)
        d = max(depth - 1, 0)
        if k == "lit":
            return self.pick(["true", "false"])
        if k == "var":
            return self.pick(self.vars_of("bool"))
        if k == "eq":
            return f"{self.text(d)} {self.pick(['==', '!='])} {self.text(d)}"
        if k in ("and", "or"):
            return f"({self.boolean(d)} {k} {self.boolean(d)})"
        if k == "not":
            return f"not ({self.boolean(d)})"
        if k == "in":
            return f"{self.text(d)} in {self.lst(d)}"
        if k == "contains":
            return f"{self.lst(d)}.contains({self.text(d)})"
        return f"{self.lst(d)}.any(v -> v == {self.text(d)})"

    def lst(self, depth: int) -> str:
        opts = ["lit", "field"]
        if self.vars_of("list"):
            opts.append("var")
        if depth > 0:
            opts += ["plus", "filter", "map", "unique"]
        k = self.pick(opts)
        d = max(depth - 1, 0)
        if k == "lit":
            return "[" + ", ".join(self.text(0) for _ in range(self.draw(st.integers(0, 2)))) + "]"
        if k == "field":
            return f"({self.inst()}.issue.labels ?? [])"
        if k == "var":
            return self.pick(self.vars_of("list"))
        if k == "plus":
            return f"({self.lst(d)} + {self.lst(d)})"
        if k == "unique":
            return f"({self.lst(d)}).unique()"
        self.lambda_vars.append("v")
        try:
            body = self.boolean(d) if k == "filter" else self.text(d)
        finally:
            self.lambda_vars.pop()
        return f"({self.lst(d)}).{k}(v -> {body})"

    def of(self, ty: str, depth: int) -> str:
        return {"text": self.text, "bool": self.boolean, "list": self.lst}[ty](depth)

    # ---- statements

    def block(self, n: int, depth: int, loop: bool = False) -> list[str]:
        self.scopes.append([])
        try:
            return [line for _ in range(n) for line in self.stmt(depth, loop)]
        finally:
            self.scopes.pop()

    def stmt(self, depth: int, loop: bool) -> list[str]:
        kinds = ["set", "set", "set", "let", "add"]
        if any(self.vars_of(t) for t in ("text", "bool", "list")):
            kinds.append("reassign")
        if depth > 0:
            kinds += ["if", "if", "for", "stop", "log"]
        if not loop and len(self.scopes) == 1:
            kinds.append("map")
        k = self.pick(kinds)
        d = depth - 1
        if k == "set":
            if self.chance(0.3):
                return [f"{self.inst()}.issue.labels = {self.lst(2)}"]
            if self.chance(0.3):  # "k" and "m" hold text (scripts read them as text); "n" anything
                key = self.pick(["k", "m", "n"])
                ty = "text" if key != "n" else self.pick(["text", "bool", "list"])
                return [f'{self.inst()}.issue.custom["{key}"] = {self.of(ty, 2)}']
            return [f"{self.inst()}.issue.{self.pick(_TEXT_FIELDS)} = {self.text(2)}"]
        if k == "add":
            return [f"{self.inst()}.issue.labels {self.pick(['+=', '-='])} {self.text(1)}"]
        if k == "let":
            ty = self.pick(["text", "bool", "list"])
            self.count += 1
            name = f"x{self.count}"
            line = f"let {name} = {self.of(ty, 2)}"
            self.scopes[-1].append((name, ty))
            return [line]
        if k == "reassign":
            ty = self.pick([t for t in ("text", "bool", "list") if self.vars_of(t)])
            name = self.pick([v for v in self.vars_of(ty) if v.startswith("x")] or ["x0"])
            if name == "x0":
                return []
            return [f"{name} = {self.of(ty, 2)}"]
        if k == "if":
            out = [f"if {self.boolean(2)} {{"] + ["    " + x for x in self.block(2, d, loop)]
            if self.chance(0.3):
                out += [f"}} else if {self.boolean(1)} {{"] + ["    " + x for x in self.block(1, d, loop)]
            if self.chance(0.4):
                out += ["} else {"] + ["    " + x for x in self.block(1, d, loop)]
            return out + ["}"]
        if k == "for":
            self.count += 1
            var = f"e{self.count}"
            head = f"for {var} in {self.lst(1)} {{"
            self.scopes.append([(var, "text")])
            try:
                body = self.block(2, d, True)
            finally:
                self.scopes.pop()
            return [head] + ["    " + x for x in body] + ["}"]
        if k == "stop":
            word = self.pick(["skip", "fail"])
            return [f"if {self.boolean(1)} {{", f'    {word} "{word} ${{{self.interp(1)}}}"', "}"]
        if k == "log":
            return [f"log {self.of(self.pick(['text', 'bool', 'list']), 1)}"]
        return self.value_map()

    def value_map(self) -> list[str]:
        field = self.pick(["status", "labels"])
        a, b = ("Blue", "Green") if self.chance() else ("Green", "Blue")
        lines = [f"map {a}.issue.{field} <-> {b}.issue.{field} {{"]
        used_l, used_r = set(), set()
        for _ in range(self.draw(st.integers(1, 3))):
            left, right, arrow = self.pick(WORDS), self.pick(WORDS), self.pick(["<->", "->", "<-"])
            if left in used_l or right in used_r:
                continue
            used_l.add(left)
            used_r.add(right)
            lines.append(f'    "{left}" {arrow} "{right}"')
        mode = self.pick(["keep", "error", "default"])
        lines.append("    else default \"zz\"" if mode == "default" else f"    else {mode}")
        return lines + ["}"]


@st.composite
def scripts(draw: st.DrawFn) -> str:
    """A connection script between Blue and Green: 1-8 statements, nested up to two levels."""
    g = _Gen(draw)
    lines = g.block(draw(st.integers(1, 8)), 2)
    return "\n".join(lines) + "\n"


_texts = st.one_of(st.none(), st.sampled_from(WORDS))


@st.composite
def issues(draw: st.DrawFn) -> dict:
    """An issue with the fields the scripts read: text fields that may be null, labels, two custom values."""
    issue = {f: draw(_texts) for f in _TEXT_FIELDS}
    issue["key"] = draw(st.sampled_from(["K-1", "K-2"]))
    issue["labels"] = draw(st.one_of(st.none(), st.lists(st.sampled_from(WORDS), max_size=3)))
    issue["custom"] = {k: draw(st.sampled_from(WORDS)) for k in ("k", "m") if draw(st.booleans())}
    return issue
