"""The compiler back end: checked rulelang programs → verified Python `ast` → RestrictedPython code objects (cached)."""

from __future__ import annotations

import ast
import hashlib
import threading
import types
import warnings
from collections import OrderedDict

from . import abi, model
from . import nodes as n
from ._codegen_expr import LOAD, ExprGen, LoopFrame, Var, at, call, const, name
from ._verify import verify
from .compiled import CompiledProgram, all_codes
from .errors import CheckError, Diagnostic, InternalError
from .program import load
from .span import Span

__all__ = ["CompiledProgram", "generate", "compile_program", "compile_source", "python_source", "clear_cache"]

_LIST_FIELDS = frozenset(f for f, k in model.ISSUE_FIELDS.items() if k in ("texts", "items", "links"))


class Codegen(ExprGen):
    """Statement half of the code generator: one instance per program."""

    def __init__(self, program: n.Program, kind: str, batching: bool = True) -> None:
        if kind not in abi.ENTRY_PARAMS:
            raise CheckError(Diagnostic("R118", f"cannot compile a {kind} program to a side program",
                                        program.span))
        super().__init__(kind)
        self.program = program
        self.spans: list[Span] = []
        self.writable = next(iter(model.WRITABLE_ROOTS[kind]))
        self.writable_py = f"r_{self.writable}"
        self.batching = batching
        self.tree: ast.Module | None = None

    def module(self) -> ast.Module:
        body = self.block(self.program.stmts)
        params = abi.ENTRY_PARAMS[self.kind]
        args = ast.arguments(posonlyargs=[], args=[ast.arg(p) for p in params], kwonlyargs=[], kw_defaults=[],
                             defaults=[])
        fn = _function(abi.ENTRY, args, self.hoisted + body)
        at(fn, self.program.span)
        return ast.Module([fn], [])

    def sid(self, span: Span) -> ast.Constant:
        self.spans.append(span)
        return const(len(self.spans) - 1)

    # ---- statements

    def block(self, stmts: tuple[n.Stmt, ...], scope: dict[str, Var] | None = None) -> list[ast.stmt]:
        self.scopes.append(scope if scope is not None else {})
        try:
            out: list[ast.stmt] = []
            batch: _Batch | None = None
            for s in stmts:
                field = self.plain_field(s) if self.batching else None
                if field is not None:
                    assert isinstance(s, n.Assign)
                    self.roots_read.clear()
                    value = self.expr(s.value)
                    if batch is not None and (field in batch.fields or self.writable_py in self.roots_read):
                        out.append(batch.statement(self.writable))
                        batch = None
                    if batch is None:
                        batch = _Batch(s.span, self.sid(s.span))
                    else:
                        self.sid(s.span)
                    batch.add(field, s, value)
                    continue
                if batch is not None:
                    out.append(batch.statement(self.writable))
                    batch = None
                method = getattr(self, f"_{type(s).__name__}", None)
                if method is None:
                    raise InternalError(f"code generation has no rule for {type(s).__name__} (please report)",
                                        s.span, code="I900")
                out.extend(at(x, s.span) for x in method(s))
            if batch is not None:
                out.append(batch.statement(self.writable))
            return out or [at(ast.Pass(), stmts[-1].span if stmts else self.program.span)]
        finally:
            self.scopes.pop()

    def plain_field(self, s: n.Stmt) -> str | None:
        """The field of a plain top-level write (`replica.f = …`), which may share one runtime call with its
        neighbours; None for every other statement."""
        if not isinstance(s, n.Assign) or s.op != "=":
            return None
        target = s.target
        if isinstance(target, n.Attr):
            field = target.name
        elif isinstance(target, n.Index) and isinstance(target.index, n.Literal) and type(target.index.value) is str:
            field = target.index.value
        else:
            return None
        root = target.obj
        if not (isinstance(root, n.Name) and root.id == self.writable and self.lookup(root.id) is None):
            return None
        return field

    def _Let(self, s: n.Let) -> list[ast.stmt]:
        value = self.expr(s.value)  # before declaring: `let x = x + 1` reads the outer x
        var = Var(self.allocate(s.name), len(self.loops))
        self.scopes[-1][s.name] = var
        return [ast.Assign([at(name(var.py, store=True), s.name_span)], value)]

    def assign_var(self, var: Var, value: ast.expr, span: Span) -> ast.stmt:
        for frame in self.loops[var.level:]:  # each enclosing loop body must carry it in and out
            frame.carried.setdefault(var.py, None)
        return ast.Assign([at(name(var.py, store=True), span)], value)

    def _Assign(self, s: n.Assign) -> list[ast.stmt]:
        target = s.target
        if isinstance(target, n.Name):
            var = self.lookup(target.id)
            if var is None:
                raise CheckError(Diagnostic("R111", f"'{target.id}' is not declared: use `let {target.id} = …`",
                                            target.span))
            value = self.expr(s.value)
            if s.op != "=":
                value = at(call("rt_iadd" if s.op == "+=" else "rt_isub", name("rt"), name(var.py), value,
                                const(False)), s.span)
            return [self.assign_var(var, value, target.span)]
        root, path = self.target_path(target)
        value = self.expr(s.value)
        if s.op != "=":
            as_list = len(path) == 1 and isinstance(path[0], ast.Constant) and path[0].value in _LIST_FIELDS
            value = at(call("rt_iadd" if s.op == "+=" else "rt_isub", name("rt"), self.expr(target), value,
                            const(as_list)), s.span)
        sid = self.sid(s.span)
        if len(path) == 1 and isinstance(path[0], ast.Constant):
            return [ast.Expr(call("rt_set", name("rt"), name(root), path[0], value, sid))]
        return [ast.Expr(call("rt_put", name("rt"), name(root), ast.Tuple(path, LOAD), value, sid))]

    def target_path(self, target: n.Expr) -> tuple[str, list[ast.expr]]:
        """`replica.custom["X"]` → ("r_replica", ["custom", "X"]); only the writable root is accepted."""
        path: list[ast.expr] = []
        node = target
        while isinstance(node, n.Attr | n.Index):
            if isinstance(node, n.Attr):
                path.append(at(const(node.name), node.name_span))
            else:
                path.append(self.expr(node.index))
            node = node.obj
        path.reverse()
        if not (isinstance(node, n.Name) and node.id == self.writable and self.lookup(node.id) is None) \
                or not path:
            raise CheckError(Diagnostic("R110" if not path else "R103",
                                        f"only fields of '{self.writable}' can be assigned in {self.kind} rules",
                                        target.span))
        return f"r_{self.writable}", path

    def _If(self, s: n.If) -> list[ast.stmt]:
        orelse = self.block(s.orelse.stmts, None) if s.orelse is not None else []
        for cond, body in reversed(s.branches):
            test = self.expr(cond, True)
            stmt = at(ast.If(test, self.block(body.stmts), orelse), cond.span.to(body.span))
            orelse = [stmt]
        return orelse

    def _For(self, s: n.For) -> list[ast.stmt]:
        iterable = self.expr(s.iterable)
        frame = LoopFrame(len(self.loops) + 1)
        self.loops.append(frame)
        loop_var = Var(self.allocate(s.var), frame.level)
        try:
            body = self.block(s.body.stmts, {s.var: loop_var})
        finally:
            self.loops.pop()
        carried = list(frame.carried)
        params = [loop_var.py, *carried]
        args = ast.arguments(posonlyargs=[], args=[ast.arg(p) for p in params], kwonlyargs=[], kw_defaults=[],
                             defaults=[])
        body.append(at(ast.Return(ast.List([name(c) for c in carried], LOAD)), s.body.span))
        fn_name = self.fresh("loop")
        out: list[ast.stmt] = [at(_function(fn_name, args, body), s.span)]
        run = at(call("rt_each", name("rt"), iterable, name(fn_name),
                      ast.List([name(c) for c in carried], LOAD)), s.iterable.span)
        if not carried:
            out.append(ast.Expr(run))
            return out
        result = self.fresh("c")
        out.append(ast.Assign([name(result, store=True)], run))
        for i, py in enumerate(carried):
            var = Var(py, self.var_level(py))
            out.append(self.assign_var(var, call("rt_item", name(result), const(i)), s.span))
        return out

    def var_level(self, py: str) -> int:
        for scope in reversed(self.scopes):
            for var in scope.values():
                if var.py == py:
                    return var.level
        raise InternalError(f"code generation lost variable {py} (please report)", None, code="I900")

    def _Skip(self, s: n.Skip) -> list[ast.stmt]:
        reason = self.expr(s.reason) if s.reason is not None else const(None)
        return [ast.Expr(call("rt_skip", name("rt"), reason, self.sid(s.span)))]

    def _Fail(self, s: n.Fail) -> list[ast.stmt]:
        return [ast.Expr(call("rt_fail", name("rt"), self.expr(s.message), self.sid(s.span)))]

    def _Log(self, s: n.Log) -> list[ast.stmt]:
        return [ast.Expr(call("rt_log", name("rt"), self.expr(s.value), self.sid(s.span)))]

    def _ValueMap(self, s: n.ValueMap) -> list[ast.stmt]:
        raise CheckError(Diagnostic("C306", "a value map belongs in a connection script (`rulelang split`)",
                                    s.span))


class _Batch:
    """Consecutive plain top-level writes: one `rt_set_many` call with a literal map of the values (statement i
    of the batch has sid first + i). Sequential semantics are kept because a write joins a batch only when its
    value does not read the output root (so it cannot see the batch's earlier writes), its field is new to the
    batch, and the program never holds the root as a value (`_generated`); values are still evaluated in
    order, and a run-time error inside one points at that value's own rule position."""

    def __init__(self, span: Span, first: ast.Constant) -> None:
        self.span, self.first = span, first
        self.fields: dict[str, None] = {}
        self.keys: list[ast.expr] = []
        self.values: list[ast.expr] = []
        self.stmts: list[n.Assign] = []

    def add(self, field: str, s: n.Assign, value: ast.expr) -> None:
        self.fields[field] = None
        self.keys.append(at(const(field), s.target.span))
        self.values.append(value)
        self.stmts.append(s)

    def statement(self, writable: str) -> ast.stmt:
        root = name(f"r_{writable}")
        if len(self.values) == 1:
            run = call("rt_set", name("rt"), root, self.keys[0], self.values[0], self.first)
            return at(ast.Expr(run), self.span)
        values = ast.Dict(self.keys, self.values)
        return at(ast.Expr(call("rt_set_many", name("rt"), root, values, self.first)),
                  self.span.to(self.stmts[-1].span))


def _function(fn_name: str, args: ast.arguments, body: list[ast.stmt]) -> ast.FunctionDef:
    fn = ast.FunctionDef(fn_name, args, body, [], None, None)
    if hasattr(ast, "TypeAlias"):  # Python 3.12+: FunctionDef grew type_params
        fn.type_params = []
    return fn


# ---- the pipeline --------------------------------------------------------------------------


def generate(program: n.Program, kind: str) -> tuple[ast.Module, tuple[Span, ...]]:
    """The Python module for a checked program (not yet verified or compiled) and its span table."""
    gen = _generated(program, kind)
    return gen.tree, tuple(gen.spans)


def _generated(program: n.Program, kind: str) -> Codegen:
    """Code generation, batching plain writes unless the output root is ever held as a value: a variable
    holding it (`let r = replica`) would let a batched value read the root before the writes before it."""
    gen = Codegen(program, kind)
    gen.tree = gen.module()
    if gen.root_escapes:
        gen = Codegen(program, kind, batching=False)
        gen.tree = gen.module()
    return gen


def compile_program(program: n.Program, kind: str, *, digest: str = "",
                    warnings_: tuple[Diagnostic, ...] = ()) -> CompiledProgram:
    """Generate, verify and compile with RestrictedPython; a rejection there is a compiler bug (I900)."""
    from RestrictedPython import compile_restricted

    gen = _generated(program, kind)
    module, spans = gen.tree, tuple(gen.spans)
    verify(module, program.file, fill_positions=True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)
            code = compile_restricted(module, filename=program.file, mode="exec")
    except SyntaxError as e:
        raise InternalError(Diagnostic("I900", f"internal compiler error: RestrictedPython refused the generated "
                                       f"code ({_first(e)}); please report this with the rule file",
                                       _where(e, program))) from None
    except (ValueError, TypeError, RecursionError, MemoryError) as e:
        raise InternalError(Diagnostic("I900", f"internal compiler error: {type(e).__name__}: {e}; please report "
                                       "this with the rule file", program.span)) from None
    entry = next((c for c in code.co_consts if isinstance(c, types.CodeType) and c.co_name == abi.ENTRY), None)
    if entry is None:
        raise InternalError("internal compiler error: no entry function (please report)", program.span)
    # RestrictedPython's transformer leaves the shapes codegen makes as they are, except that it wraps each
    # comprehension's iterable in `_getiter_` (sandbox.py lets rt_iter's results through); taking that back
    # out keeps the tree `rulelang compile` shows the verified one.
    for comp in gen.comprehensions:
        loop = comp.generators[0]
        if type(loop.iter) is ast.Call and type(loop.iter.func) is ast.Name and loop.iter.func.id == "_getiter_":
            loop.iter = loop.iter.args[0]
    return CompiledProgram(program.file, program.source, kind, entry, spans, all_codes(entry), module,
                           digest, warnings_)


def _first(e: SyntaxError) -> str:
    msg = e.msg if isinstance(e.msg, str) else "; ".join(map(str, e.args[0] if e.args else ()))
    return msg.splitlines()[0] if msg else "syntax error"


def _where(e: SyntaxError, program: n.Program) -> Span:
    import re

    m = re.search(r"Line (\d+)", str(e.args[0] if e.args else ""))
    line = int(m.group(1)) if m else 1
    return Span(program.file, line, 1, line, 2)


# ---- source → compiled program, cached by content hash -------------------------------------

_CACHE: OrderedDict[str, CompiledProgram] = OrderedDict()
_CACHE_SIZE = 256
_LOCK = threading.Lock()


def compile_source(source: str | bytes, file: str = "<rules>", kind: str | None = None) -> CompiledProgram:
    """Parse, check, generate and compile; raises RulelangError (a CheckError holds every error found)."""
    raw = source.encode("utf-8", "surrogatepass") if isinstance(source, str) else bytes(source)
    digest = hashlib.sha256(b"\0".join([abi.CODEGEN_VERSION.encode(), (kind or "").encode(),
                                        file.encode("utf-8", "surrogatepass"), raw])).hexdigest()
    with _LOCK:
        hit = _CACHE.get(digest)
        if hit is not None:
            _CACHE.move_to_end(digest)
            return hit
    program, resolved, found = _load(source, file, kind)
    compiled = compile_program(program, resolved, digest=digest, warnings_=found)
    with _LOCK:
        _CACHE[digest] = compiled
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return compiled


def clear_cache() -> None:
    with _LOCK:
        _CACHE.clear()


def python_source(source: str | bytes, file: str = "<rules>", kind: str | None = None) -> str:
    return compile_source(source, file, kind).python()


def _load(source: str | bytes, file: str, kind: str | None) -> tuple[n.Program, str, tuple[Diagnostic, ...]]:
    """Parse and check through rulelang.program; every error at once, or the program, its kind and warnings."""
    checked = load(source, file, kind=kind)
    if not checked.ok:
        raise CheckError(checked.errors)
    if checked.kind not in abi.ENTRY_PARAMS:
        raise CheckError(Diagnostic("R118", f"a {checked.kind} program cannot be run directly: split it with "
                                    "`rulelang split`", checked.program.span))
    return checked.program, checked.kind, tuple(checked.warnings)
