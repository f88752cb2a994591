"""The splitter's first pass: which instances a connection script names, what each variable name refers to, and
the positioned errors for scripts that cannot be split."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from . import nodes as n
from .errors import CheckError, Diagnostic
from .nodes import unwind
from .span import Span

__all__ = ["Binding", "Scan", "scan", "instance_path", "unwind"]

_SIDE_ROOTS = ("issue", "replica", "previous", "first_sync", "connection")


@dataclass(eq=False)
class Binding:
    """One local name: a `let` variable, a `for` variable or a lambda parameter."""

    name: str
    kind: str  # "let", "loop" or "param"
    top: bool = False  # a `let` at the top level of the script
    reassigned: bool = False


@dataclass
class Scan:
    """What the script's names mean. Node keys are `id(node)`: the tree lives as long as the scan."""

    program: n.Program
    instances: tuple[str, str]
    bindings: list[Binding] = field(default_factory=list)
    uses: dict[int, Binding] = field(default_factory=dict)  # Name node → the variable it reads
    defines: dict[int, Binding] = field(default_factory=dict)  # Let / Assign / For / Lambda → variable
    raw_custom: set[str] = field(default_factory=set)  # `X.issue.custom["k"]` keys read anywhere
    # Nodes the splitter makes and enters in `uses`/`defines` (value-map lambdas): held, so that while the
    # tables live no other node can take their ids.
    held: list[n.Node] = field(default_factory=list)


def instance_path(expr: n.Expr, instances: Sequence[str]) -> tuple[str, tuple] | None:
    """`Blue.issue.custom["X"]` → ("Blue", ("custom", "X")) when every index is a literal; else None."""
    root, chain = unwind(expr)
    if not (isinstance(root, n.Name) and root.id in instances and chain and isinstance(chain[0], n.Attr)
            and chain[0].name == "issue"):
        return None
    steps: list = []
    for link in chain[1:]:
        if isinstance(link, n.Attr):
            steps.append(link.name)
        elif isinstance(link.index, n.Literal) and not isinstance(link.index.value, bool):
            steps.append(link.index.value)
        else:
            return None
    return root.id, tuple(steps)


def _issue_root(expr: n.Expr) -> str | None:
    """The instance name X when expr is `X.issue`."""
    if isinstance(expr, n.Attr) and expr.name == "issue" and isinstance(expr.obj, n.Name):
        return expr.obj.id
    return None


def scan(program: n.Program, instances: Sequence[str] | None) -> Scan:
    """Resolve names and check the script is splittable; raise CheckError with every problem found."""
    declared = tuple(instances) if instances is not None else None
    names = declared if declared is not None else _named_instances(program)
    problems: list[Diagnostic] = []
    if declared is not None and len(declared) != 2:
        raise ValueError(f"a connection joins two instances, got {len(declared)}: {', '.join(declared)}")
    if declared is None and len(names) != 2:
        problems.append(_count_problem(program, names))
        raise CheckError(problems)
    result = Scan(program, (names[0], names[1]))
    _Resolver(result, problems).block(program.stmts, top=True)
    if problems:
        problems.sort(key=lambda d: (d.span.start if d.span else 0, d.code))
        raise CheckError(problems)
    return result


def _named_instances(program: n.Program) -> tuple[str, ...]:
    """The instances a script names (`X.issue`), in order of first use, without names bound as variables."""
    bound = {node.name for node in n.walk(program) if isinstance(node, n.Let)}
    bound |= {node.var for node in n.walk(program) if isinstance(node, n.For)}
    bound |= {node.param for node in n.walk(program) if isinstance(node, n.Lambda)}
    seen: dict[str, None] = {}
    for node in n.walk(program):
        root = _issue_root(node) if isinstance(node, n.Attr) else None
        if root is not None and root not in bound and root not in _SIDE_ROOTS:
            seen.setdefault(root, None)
    return tuple(seen)


def _count_problem(program: n.Program, names: tuple[str, ...]) -> Diagnostic:
    if len(names) > 2:
        third = names[2]
        span = next(node.span for node in n.walk(program)
                    if isinstance(node, n.Attr) and _issue_root(node) == third)
        return Diagnostic("C310", f"cannot split: a connection joins two instances, but this script names "
                          f"{len(names)}: {', '.join(names)}", span, hint="name the two with --instances A,B")
    span = program.stmts[0].span if program.stmts else Span(program.file, 1, 1, 1, 2, 0, 1)
    found = f"only {names[0]}" if names else "none"
    return Diagnostic("C310", f"cannot split: the script names {found} of the connection's two instances",
                      span, hint="name them with --instances A,B")


class _Resolver:
    """Walks the script once with a stack of scopes, recording bindings and problems."""

    def __init__(self, result: Scan, problems: list[Diagnostic]) -> None:
        self.r = result
        self.problems = problems
        self.scopes: list[dict[str, Binding]] = []

    def err(self, code: str, message: str, span: Span, hint: str | None = None) -> None:
        self.problems.append(Diagnostic(code, message, span, hint=hint))

    def lookup(self, name: str) -> Binding | None:
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]
        return None

    def bind(self, node: n.Node, name: str, kind: str, top: bool = False) -> Binding:
        b = Binding(name, kind, top)
        self.r.bindings.append(b)
        self.r.defines[id(node)] = b
        self.scopes[-1][name] = b
        return b

    # ---- statements

    def block(self, stmts: Sequence[n.Stmt], top: bool = False, bound: tuple = ()) -> None:
        self.scopes.append({})
        for node, name in bound:
            self.bind(node, name, "loop")
        for st in stmts:
            self.stmt(st, top)
        self.scopes.pop()

    def stmt(self, st: n.Stmt, top: bool) -> None:
        if isinstance(st, n.Let):
            self.expr(st.value)
            self.bind(st, st.name, "let", top)
        elif isinstance(st, n.Assign):
            self.expr(st.value)
            self.target(st)
        elif isinstance(st, n.If):
            for cond, block in st.branches:
                self.expr(cond)
                self.block(block.stmts)
            if st.orelse is not None:
                self.block(st.orelse.stmts)
        elif isinstance(st, n.For):
            self.expr(st.iterable)
            self.block(st.body.stmts, bound=((st, st.var),))
        elif isinstance(st, n.Skip):
            if st.reason is not None:
                self.expr(st.reason)
        elif isinstance(st, n.Fail):
            self.expr(st.message)
        elif isinstance(st, n.Log):
            self.expr(st.value)
        elif isinstance(st, n.ValueMap):
            self.value_map(st)

    def target(self, st: n.Assign) -> None:
        t = st.target
        if isinstance(t, n.Name):
            b = self.lookup(t.id)
            if b is None:
                self.unknown(t)
            else:
                b.reassigned = True
                self.r.defines[id(st)] = b
            return
        root, chain = unwind(t)
        if isinstance(root, n.Name) and self.lookup(root.id) is None and root.id not in self.r.instances:
            if chain and isinstance(chain[0], n.Attr) and chain[0].name == "issue" and root.id not in _SIDE_ROOTS:
                self.undeclared_instance(root)
            else:
                self.unknown(root)
            return
        inst = self.instance_of(root, chain)
        if inst is None:
            what = root.id if isinstance(root, n.Name) else "this"
            self.err("C305", f"cannot assign to {what}: a connection script assigns issue fields of its "
                     f"instances ({self.r.instances[0]}.issue.…, {self.r.instances[1]}.issue.…) or variables",
                     t.span)
            return
        if len(chain) < 2:
            self.err("R117", f"a whole issue cannot be assigned: assign its fields ({inst}.issue.summary = …)",
                     t.span)
            return
        for link in chain:
            if isinstance(link, n.Index):
                self.expr(link.index)  # a computed key may read either side: its sender part travels

    def value_map(self, st: n.ValueMap) -> None:
        sides = []
        for side in (st.left, st.right):
            path = instance_path(side, self.r.instances)
            self.expr(side)
            if path is None or not path[1]:
                self.err("C305", "a value map maps an issue field of one instance to one of the other; "
                         f"'{_short(side)}' is not an issue field", side.span)
                sides.append(None)
            else:
                sides.append(path[0])
        if sides[0] is not None and sides[0] == sides[1]:
            self.err("C304", f"both sides of this map are on {sides[0]}: a value map joins the two instances",
                     st.right.span)
        for lit in [x for rule in st.entries for x in (rule.left, rule.right)] + [st.default]:
            if lit is not None and lit.value is None:
                self.err("C307", "cannot split a value map with null: value maps hold text", lit.span,
                         hint="test for an empty field with `if X.issue.field == null { … }`")
            elif lit is not None and not isinstance(lit.value, str):
                self.err("C307", "cannot split a value map with a value that is not text", lit.span,
                         hint=f'write it as text: "{lit.value}"')
        self.duplicates(st, "->", lambda r: r.left, lambda r: r.right)
        self.duplicates(st, "<-", lambda r: r.right, lambda r: r.left)

    def duplicates(self, st: n.ValueMap, arrow: str, source, target) -> None:
        seen: dict = {}
        for rule in st.entries:
            if rule.arrow not in ("<->", arrow):
                continue
            key = source(rule).value
            if key in seen and seen[key].value != target(rule).value:
                first = seen[key]
                self.err("C308", f"'{key}' is already mapped to '{first.value}' on line {first.span.line}",
                         source(rule).span)
            seen.setdefault(key, target(rule))

    # ---- expressions

    def expr(self, e: n.Expr) -> None:
        stack: list[n.Node] = [e]
        while stack:
            node = stack.pop()
            if isinstance(node, n.Name):
                self.name(node)
                continue
            if isinstance(node, n.Attr) and _issue_root(node) in self.r.instances:
                continue  # `X.issue`: an instance read, checked below when it is a path
            if isinstance(node, n.Attr) and _issue_root(node) is not None and self.lookup(node.obj.id) is None \
                    and node.obj.id not in _SIDE_ROOTS:  # type: ignore[attr-defined]
                self.undeclared_instance(node.obj)  # type: ignore[arg-type]
                continue
            if isinstance(node, n.Lambda):
                self.scopes.append({})
                self.bind(node, node.param, "param")
                self.expr(node.body)
                self.scopes.pop()
                continue
            if isinstance(node, n.Index):
                path = instance_path(node, self.r.instances)
                if path is not None and len(path[1]) == 2 and path[1][0] == "custom" and isinstance(
                        path[1][1], str):
                    self.r.raw_custom.add(path[1][1])
            if isinstance(node, n.Interp):
                stack.extend(p for p in reversed(node.parts) if isinstance(p, n.Node))
                continue
            stack.extend(reversed(list(n.children(node))))

    def name(self, node: n.Name) -> None:
        b = self.lookup(node.id)
        if b is not None:
            self.r.uses[id(node)] = b
        elif node.id in self.r.instances:
            self.err("C305", f"read {node.id}'s fields through {node.id}.issue (for example "
                     f"{node.id}.issue.summary)", node.span)
        else:
            self.unknown(node)

    def unknown(self, node: n.Name) -> None:
        if node.id in _SIDE_ROOTS:
            self.err("C309", f"'{node.id}' has no meaning in a connection script: name the instance", node.span,
                     hint=f"for example {self.r.instances[0]}.issue.summary")
        else:
            self.err("R101", f"unknown name '{node.id}'", node.span,
                     hint=f"a connection script reads {self.r.instances[0]}.issue, {self.r.instances[1]}.issue "
                          "and its variables")

    def undeclared_instance(self, node: n.Name) -> None:
        self.err("C301", f"instance '{node.id}' is not declared in this connection", node.span,
                 hint=f"the instances are {', '.join(self.r.instances)}")

    def instance_of(self, root: n.Expr, chain: list) -> str | None:
        if (isinstance(root, n.Name) and root.id in self.r.instances and self.lookup(root.id) is None
                and chain and isinstance(chain[0], n.Attr) and chain[0].name == "issue"):
            return root.id
        return None


def _short(e: n.Expr) -> str:
    from .format import FormatError, format_expr

    try:
        text = format_expr(e)
    except FormatError:
        return "this value"
    return text if len(text) <= 40 else text[:37] + "…"
