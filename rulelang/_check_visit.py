"""The checker's walk over statements and expressions: names, fields, calls, lambdas, scopes and flow."""

from __future__ import annotations

from collections.abc import Sequence

from . import _check_calls, model
from . import nodes as n
from ._check_scope import Key, Scopes, Var, Writes, first_stop, stops
from ._check_types import (
    ANY,
    BOOL,
    MAP,
    NULL,
    NUMBER,
    RECORD_LABEL,
    RECORDS,
    TEXT,
    Ty,
    binop,
    describe,
    field_suggestion,
    join,
    list_of,
    literal_type,
    record,
)
from .codes import severity_of
from .errors import Diagnostic, did_you_mean
from .nodes import unwind
from .span import Span

__all__ = ["Checker", "unwind", "FIXED_ROOTS", "KEYWORDS"]

FIXED_ROOTS = ("issue", "replica", "previous", "first_sync", "connection")
KEYWORDS = frozenset({"let", "if", "else", "for", "in", "skip", "fail", "log", "map", "default", "and", "or",
                      "not", "true", "false", "null"})
ROOT_TYPES = {"issue": record("issue"), "replica": record("issue"), "previous": record("issue"),
              "first_sync": BOOL, "connection": MAP}
# The output being built may be read back: `replica.x = …` then `if replica.x == …`.
READABLE = {kind: roots | model.WRITABLE_ROOTS[kind] for kind, roots in model.ROOTS.items()}



_PATHS = (n.Name, n.Attr, n.Index)
_TEXT_LIST = list_of(TEXT)


class Checker:
    """One pass over a program; findings collect in `diagnostics` (nothing is raised)."""

    def __init__(self, program: n.Program, kind: str, instances: Sequence[str],
                 quiet_roots: set[int] | None = None, lets: dict[str, list[Span]] | None = None) -> None:
        self.kind = kind
        self.source = program.source
        self.instances = tuple(instances)
        self.diagnostics: list[Diagnostic] = []
        self.scopes = Scopes()
        self.writes = Writes()
        self.quiet_roots = quiet_roots or set()  # targets already reported as a kind mix (R116)
        if lets is None:
            lets = {}
            for node in n.walk(program):
                if isinstance(node, n.Let):
                    lets.setdefault(node.name, []).append(node.name_span)
        self.lets = lets  # every `let` of the program by name: "used before its let" needs the later ones

    def text(self, node: n.Node) -> str:
        """The source text of a node, as the user wrote it."""
        return self.source[node.span.start:node.span.end]

    def report(self, code: str, message: str, span: Span | None, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(code, message, span, severity_of(code), hint))

    # ---- statements

    def block(self, stmts: Sequence[n.Stmt], bound: Sequence[Var] = ()) -> None:
        self.scopes.push()
        self.writes.push()
        for var in bound:
            self.scopes.declare(var)
        stopper: n.Stmt | None = None
        warned = False
        for st in stmts:
            if stopper is not None and not warned:
                word = "skip" if isinstance(stopper, n.Skip) else "fail"
                self.report("R202", f"unreachable statement: '{word}' on line {stopper.span.line} stops the run "
                            "before it", st.span)
                warned = True
            self.stmt(st)
            if stopper is None and stops(st):
                stopper = st if isinstance(st, n.Skip | n.Fail) else first_stop(st)
        self.writes.pop()
        for var in self.scopes.pop():
            if var.kind == "let" and not var.read:
                self.report("R201", f"variable '{var.name}' is never read", var.span,
                            hint="remove the 'let', or use the variable")

    def stmt(self, st: n.Stmt) -> None:
        if isinstance(st, n.Assign):
            self.assign(st)
        elif isinstance(st, n.Let):
            ty = self.expr(st.value)
            self.declare(Var(st.name, st.name_span, ty, "let"), st.span)
        elif isinstance(st, n.If):
            for cond, body in st.branches:
                self.expr(cond)
                self.block(body.stmts)
            if st.orelse is not None:
                self.block(st.orelse.stmts)
        elif isinstance(st, n.For):
            it = self.expr(st.iterable)
            elem = (it.elem or ANY) if it.kind == "list" else TEXT if it.kind in ("map", "record") else ANY
            var = Var(st.var, st.var_span, elem, "loop")
            self.reserved(var)
            self.block(st.body.stmts, bound=[var])
        elif isinstance(st, n.Skip | n.Fail | n.Log):
            value = st.reason if isinstance(st, n.Skip) else st.message if isinstance(st, n.Fail) else st.value
            if value is not None:
                self.expr(value)
        elif isinstance(st, n.ValueMap):
            from ._check_conn import value_map

            value_map(self, st)

    def declare(self, var: Var, stmt_span: Span) -> None:
        if self.reserved(var):
            return
        old = self.scopes.declare(var)
        if old is not None and old.kind == "let":
            self.report("R112", f"'{var.name}' is already declared in this block (line {old.span.line})", var.span,
                        hint=f"assign it without 'let': {var.name} = …")
        self.writes.write(var.key, stmt_span)

    def reserved(self, var: Var) -> bool:
        if var.name in KEYWORDS or var.name in FIXED_ROOTS or var.name in self.instances:
            what = "a keyword" if var.name in KEYWORDS else "an instance" if var.name in self.instances else "a root"
            self.report("R113", f"'{var.name}' is {what}: it cannot name a variable", var.span)
            return True
        return False

    def assign(self, st: n.Assign) -> None:
        value = self.expr(st.value)
        target, key = self.target(st.target, id(st) in self.quiet_roots)
        if st.op == "=":
            earlier = self.writes.write(key, st.span) if key is not None else None
            if earlier is not None:
                self.report("R203", f"this value of '{self.text(st.target)}' is never read: line "
                            f"{st.span.line} assigns it again", earlier)
            if value == TEXT and target == _TEXT_LIST:
                self.report("R204", f"'{self.text(st.target)}' holds a list of text: this text becomes a "
                            "one-element list", st.value.span, hint="write [\"…\"] to say so")
            self.shape(st.value, target)
        else:
            if key is not None:
                self.writes.read(key)
            if (st.op == "-=" and target == TEXT) or target.kind in ("record", "bool"):
                self.report("R206", f"'{st.op}' does not apply to {describe(target)}", st.target.span,
                            hint="'+=' adds to a list, a text or a number; '-=' removes from a list or a number")

    def target(self, expr: n.Expr, quiet: bool) -> tuple[Ty, Key | None]:
        """Check an assignment target; its type and the key it writes (None: untracked)."""
        root, chain = unwind(expr)
        if not isinstance(root, n.Name):
            self.report("R110", "only a field path or a variable can be assigned", expr.span,
                        hint="the left side of '=' is like replica.summary or a variable")
            return ANY, None
        var = self.scopes.lookup(root.id)
        if var is not None:
            if chain:
                self.report("R110", f"cannot assign to a part of variable '{root.id}'", expr.span,
                            hint=f"build a new value: {root.id} = {root.id} | {{field: value}}")
                return ANY, None
            if var.kind != "let":
                self.report("R110", f"'{root.id}' is a {'loop variable' if var.kind == 'loop' else 'lambda parameter'}"
                            ": it cannot be assigned", expr.span, hint="declare a new one: let other = …")
                return ANY, None
            return var.ty, var.key
        if self.kind == "connection":
            from ._check_conn import connection_target

            return connection_target(self, root, chain, expr, quiet)
        if root.id in model.WRITABLE_ROOTS[self.kind]:
            if not chain:
                self.report("R117", f"'{root.id}' itself cannot be assigned: assign its fields",
                            root.span, hint=f"{root.id}.summary = …")
                return ANY, None
            if root.id == "issue":
                self.read_only_field(chain[0])
            return self.fields((root.id,), ROOT_TYPES[root.id], chain, store=True)
        if not quiet:
            self.root_write_error(root, bare=not chain)
        return ANY, None

    def read_only_field(self, link: n.Attr | n.Index) -> None:
        """`issue.created = …`: the local tracker sets created and updated (a replica may carry them)."""
        if isinstance(link, n.Attr) and link.name in model.READ_ONLY_FIELDS:
            self.report("R103", f"'{link.name}' is read-only: the tracker sets it", link.name_span)

    def root_write_error(self, root: n.Name, bare: bool) -> None:
        name = root.id
        if name in READABLE[self.kind]:
            writes = ", ".join(sorted(model.WRITABLE_ROOTS[self.kind]))
            self.report("R103", f"'{name}' is read-only in an {self.kind} program", root.span,
                        hint=f"an {self.kind} program writes {writes}")
        elif name in ("previous", "first_sync"):
            self.report("R104", f"'{name}' exists only in incoming programs", root.span)
        elif bare or name in self.lets:
            self.undeclared(root)
        else:
            self.unknown_root(root, None)

    # ---- paths

    def fields(self, key: Key | None, ty: Ty, chain: Sequence[n.Attr | n.Index], store: bool = False
               ) -> tuple[Ty, Key | None]:
        """Follow a path's links from a value of type ty; the final type and the key read or written.

        A computed index (`custom[k]`, `comments[0]`) ends the key: a read then reads everything
        under it, and a write is not tracked.
        """
        grow = True
        for link in chain:
            if isinstance(link, n.Index):
                self.expr(link.index)
                lit = link.index.value if isinstance(link.index, n.Literal) else None
                if not (isinstance(lit, str) and ty.kind in ("record", "map", "any", "instance")):
                    ty = (ty.elem or ANY) if ty.kind == "list" else ANY
                    key = None if store else key
                    grow = False
                    continue
                name, span = lit, link.index.span
            else:
                name, span = link.name, link.name_span
            if grow and key is not None:
                key = (*key, name)
            ty = self.field(ty, name, span)
        return ty, key

    def field(self, ty: Ty, name: str, span: Span) -> Ty:
        if ty.kind == "record":
            fields = RECORDS[ty.name]
            if name in fields:
                return fields[name]
            guess = field_suggestion(name, fields)
            label = RECORD_LABEL[ty.name]
            self.report("R102", f"unknown field '{name}' on {label}" + (f" (did you mean '{guess}'?)" if guess else ""),
                        span)
            return ANY
        if ty.kind == "instance":
            if name == "issue":
                return record("issue")
            self.report("R102", f"unknown field '{name}' on instance {ty.name}", span,
                        hint=f"issue fields are read as {ty.name}.issue.{name}")
            return ANY
        if ty.kind in ("list", "text", "number", "bool"):
            hint = None
            if ty.kind == "list":
                hint = f"to read it from each item: .map(x -> x.{name})"
            elif name in model.METHODS:
                hint = f"'{name}' is a method: .{name}()"
            elif name in ("length", "size", "count"):
                hint = "use len(…)"
            self.report("R115", f"{describe(ty)} has no field '{name}'", span, hint=hint)
        return ANY

    def path(self, expr: n.Expr) -> Ty:
        root, chain = unwind(expr)
        if not isinstance(root, n.Name):
            return self.fields(None, self.expr(root), chain)[0]
        ty, key = self.name(root, chain[0] if chain else None)
        ty, key = self.fields(key, ty, chain)
        if key:
            self.writes.read(key)
        return ty

    def name(self, node: n.Name, first: n.Attr | n.Index | None) -> tuple[Ty, Key | None]:
        var = self.scopes.lookup(node.id)
        if var is not None:
            var.read = True
            return var.ty, var.key
        name = node.id
        if self.kind == "connection":
            from ._check_conn import connection_root

            return connection_root(self, node, first)
        if name in READABLE[self.kind]:
            return ROOT_TYPES[name], (name,)
        if name in ("previous", "first_sync"):
            self.report("R104", f"'{name}' exists only in incoming programs", node.span)
        elif first is None or name in self.lets:
            self.undeclared(node)
        else:
            self.unknown_root(node, first)
        return ANY, None

    def undeclared(self, node: n.Name) -> None:
        later = self.lets.get(node.id)
        if later:
            where = later[0]
            before = where.start > node.span.start
            self.report("R111", f"'{node.id}' is used before its 'let' (line {where.line})" if before else
                        f"'{node.id}' is declared on line {where.line} in another block, not visible here",
                        node.span)
            return
        guess = did_you_mean(node.id, [*self.scopes.visible(), *sorted(READABLE[self.kind]), *self.instances])
        self.report("R111", f"undeclared variable '{node.id}'" + (f" (did you mean '{guess}'?)" if guess else ""),
                    node.span, hint=None if guess else f"declare it first: let {node.id} = …")

    def unknown_root(self, node: n.Name, first: n.Attr | n.Index | None) -> None:
        roots = sorted(READABLE[self.kind]) if self.kind != "connection" else list(self.instances)
        guess = did_you_mean(node.id, [*roots, *self.scopes.visible()])
        hint = (f"an {self.kind} program reads {', '.join(roots)}" if self.kind != "connection"
                else f"a connection script reads {', '.join(f'{i}.issue' for i in roots) or '<Instance>.issue'}")
        if isinstance(first, n.Attr) and first.name == "issue" and self.kind != "connection":
            hint = f"'{node.id}.issue' names an instance: that belongs in a connection script (--kind connection)"
        self.report("R101", f"unknown name '{node.id}'" + (f" (did you mean '{guess}'?)" if guess else ""),
                    node.span, hint=hint)

    # ---- expressions

    def expr(self, e: n.Expr) -> Ty:
        t = type(e)  # the commonest nodes by identity first; the isinstance chain below decides the rest
        if t is n.Attr or t is n.Name:
            return self.path(e)
        if isinstance(e, n.Literal):
            return literal_type(e.value)
        if isinstance(e, _PATHS):
            return self.path(e)
        if isinstance(e, n.Interp):
            for part in e.parts:
                if isinstance(part, n.Expr):
                    self.expr(part)
            return TEXT
        if isinstance(e, n.MethodCall):
            return _check_calls.method(self, e)
        if isinstance(e, n.Call):
            return _check_calls.call(self, e)
        if isinstance(e, n.Lambda):
            self.report("R109", "a lambda is allowed only as the argument of a collection method", e.span,
                        hint="for example: issue.comments.filter(c -> not c.internal)")
            self.lambda_(e, ANY)
            return ANY
        if isinstance(e, n.ListLit):
            elem = NULL
            for item in e.items:
                elem = join(elem, self.expr(item))
            return list_of(ANY if elem == NULL else elem)
        if isinstance(e, n.MapLit):
            seen: dict[str, n.MapEntry] = {}
            for entry in e.entries:
                if entry.key in seen:
                    self.report("R114", f"duplicate key '{entry.key}' in map literal (first on line "
                                f"{seen[entry.key].key_span.line})", entry.key_span)
                seen.setdefault(entry.key, entry)
                self.expr(entry.value)
            return MAP
        if isinstance(e, n.BinOp):
            return binop(e.op, self.expr(e.left), self.expr(e.right))
        if isinstance(e, (n.BoolOp, n.Not)):
            for sub in n.children(e):
                self.expr(sub)  # type: ignore[arg-type]
            return BOOL
        if isinstance(e, n.Neg):
            self.expr(e.operand)
            return NUMBER
        if isinstance(e, n.Coalesce):
            left, right = self.expr(e.left), self.expr(e.right)
            return right if left == NULL else join(left, right)
        if isinstance(e, n.Merge):
            left = self.expr(e.left)
            self.expr(e.right)
            self.shape(e.right, left)
            return left if left.kind in ("record", "map") else ANY
        if isinstance(e, n.Cond):
            self.expr(e.cond)
            return join(self.expr(e.then), self.expr(e.other))
        return ANY  # pragma: no cover - every expression node is handled above

    def lambda_(self, lam: n.Lambda, param: Ty) -> Ty:
        var = Var(lam.param, lam.param_span, param, "param")
        self.scopes.push()
        self.reserved(var)
        self.scopes.declare(var)  # even a refused name: its uses then mean this parameter, not a root
        ty = self.expr(lam.body)
        self.scopes.pop()
        return ty

    def shape(self, value: n.Expr, target: Ty) -> None:
        _check_calls.shape(self, value, target)
