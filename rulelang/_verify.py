"""Wall 2's verifier: the generated `ast` must use only allow-listed node shapes and call only ABI functions."""

from __future__ import annotations

import ast

from . import abi
from .errors import Diagnostic, InternalError
from .span import Span

__all__ = ["verify", "MAX_CONSTANT_CHARS"]

MAX_CONSTANT_CHARS = 1_000_000

# Node types generated code may contain; every other one (Attribute, Subscript, Import, other comprehensions,
# While, Try, With, Global, Yield, Starred, JoinedStr, AugAssign, ClassDef, …) is a compiler bug. A list
# comprehension may only loop over a temporary bound to an `rt_iter` result (`.map`/`.filter` with a lambda).
_ALLOWED = frozenset({
    ast.Module, ast.FunctionDef, ast.arguments, ast.arg, ast.Return, ast.Assign, ast.Expr, ast.If, ast.Pass,
    ast.Lambda, ast.Call, ast.Name, ast.Load, ast.Store, ast.Constant, ast.List, ast.Tuple, ast.Dict,
    ast.IfExp, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.Compare, ast.Eq, ast.NotEq, ast.Is,
    ast.IsNot, ast.In, ast.NotIn, ast.NamedExpr, ast.ListComp, ast.comprehension,
})
_FUNCTION_NAMES = ("rule_main", "loop_")
_WRITES = frozenset({"rt_set", "rt_set_many", "rt_put"})  # the only functions that change a map in place
_CONSTANT_TYPES = (str, int, float, bool, type(None))


def verify(module: ast.AST, file: str = "<rules>", *, fill_positions: bool = False) -> None:
    """Raise InternalError (I900, "please report", with the rule position) on the first disallowed shape.

    With `fill_positions`, a node without a position gets its nearest positioned ancestor's (codegen
    stamps the node made for each rule node; the small nodes around it inherit here, in the same pass).
    """
    if type(module) is not ast.Module or len(module.body) != 1 or type(module.body[0]) is not ast.FunctionDef \
            or module.body[0].name != abi.ENTRY:
        _reject(module, file, "the module must hold exactly the entry function")
    entry = module.body[0].args.args
    writable = entry[1].arg if len(entry) > 1 else None  # rt, then the output root (abi.ENTRY_PARAMS)
    # Comprehensions are checked after the walk: each must loop over a temporary that is bound exactly once,
    # by `t_N := rt_iter(...)`, and nowhere else (no other assignment, parameter or loop variable).
    looped: set[str] = set()
    bindings: dict[str, int] = {}
    comprehensions: list[ast.ListComp] = []
    stack: list[tuple[ast.AST, int, tuple]] = [(module, 0, (1, 0, 1, 0))]
    while stack:
        node, depth, inherited = stack.pop()
        if "lineno" in node._attributes:
            if getattr(node, "lineno", None) is not None:
                inherited = (node.lineno, node.col_offset, node.end_lineno, node.end_col_offset)
            elif fill_positions:
                node.lineno, node.col_offset, node.end_lineno, node.end_col_offset = inherited
        if depth > 1000:
            _reject(node, file, "generated tree too deep")
        kind = type(node)
        if kind not in _ALLOWED:
            _reject(node, file, f"{kind.__name__} node")
        check = _CHECKS.get(kind)
        if check is not None:
            problem = check(node)
            if problem:
                _reject(node, file, problem)
            if kind is ast.Call and node.func.id in _WRITES and not (
                    type(node.args[1]) is ast.Name and node.args[1].id == writable):
                _reject(node, file, f"{node.func.id} on something other than the output root")
        if kind is ast.Name and type(node.ctx) is ast.Store or kind is ast.arg:
            bound = node.id if kind is ast.Name else node.arg
            bindings[bound] = bindings.get(bound, 0) + 1
        elif kind is ast.NamedExpr and type(node.value) is ast.Call and type(node.value.func) is ast.Name \
                and node.value.func.id == "rt_iter":
            looped.add(node.target.id)
        elif kind is ast.ListComp:
            comprehensions.append(node)
        for field in node._fields:
            value = getattr(node, field, None)
            if type(value) is list:
                stack.extend((v, depth + 1, inherited) for v in value if isinstance(v, ast.AST))
            elif isinstance(value, ast.AST):
                stack.append((value, depth + 1, inherited))
    for comp in comprehensions:
        source = comp.generators[0].iter
        if type(source) is not ast.Name or source.id not in looped or bindings.get(source.id) != 1:
            _reject(comp, file, "a comprehension over something other than an rt_iter result")


def _name(node: ast.Name) -> str | None:
    ident = node.id
    if type(ident) is not str or ident.startswith("_") or ident.endswith("__roles__"):
        return f"name {ident!r}"
    if ident in abi.FUNCTIONS or ident in abi.CONSTANTS:
        return None if type(node.ctx) is ast.Load else f"assignment to runtime name {ident!r}"
    if not abi.NAME_PATTERNS.fullmatch(ident):
        return f"name {ident!r} outside the generated namespaces"
    if ident.startswith("r_") and type(node.ctx) is not ast.Load:
        return f"assignment to root {ident!r}"
    return None


def _call(node: ast.Call) -> str | None:
    func = node.func
    if type(func) is not ast.Name or func.id not in abi.FUNCTIONS:
        return f"call of {ast.unparse(func)!r}, not a runtime function"
    if node.keywords or any(type(a) is ast.Starred for a in node.args):
        return "call with keywords or *args"
    spec = abi.FUNCTIONS[func.id]
    if not spec.min_args <= len(node.args) <= spec.max_args:
        return f"{func.id} called with {len(node.args)} arguments"
    return None


def _arguments(node: ast.arguments) -> str | None:
    if node.posonlyargs or node.vararg or node.kwonlyargs or node.kw_defaults or node.kwarg or node.defaults:
        return "parameters other than plain positional names"
    for a in node.args:
        if a.annotation is not None or not abi.NAME_PATTERNS.fullmatch(a.arg) or a.arg.startswith("_") \
                or a.arg in abi.FUNCTIONS or a.arg in abi.CONSTANTS:
            return f"parameter {a.arg!r}"
    return None


def _function(node: ast.FunctionDef) -> str | None:
    if node.decorator_list or node.returns is not None or not node.name.startswith(_FUNCTION_NAMES):
        return f"function {node.name!r}"
    if getattr(node, "type_params", None):
        return "type parameters"
    return None


def _constant(node: ast.Constant) -> str | None:
    v = node.value
    if type(v) not in _CONSTANT_TYPES:
        return f"constant of type {type(v).__name__}"
    if type(v) is str and len(v) > MAX_CONSTANT_CHARS:
        return "text constant too large"
    if type(v) is int and not -(2**63) <= v < 2**63:
        return "integer constant out of range"
    return None


def _dict(node: ast.Dict) -> str | None:
    if any(k is None or type(k) is not ast.Constant or type(k.value) is not str for k in node.keys):
        return "map key that is not a text constant"
    return None


def _compare(node: ast.Compare) -> str | None:
    if len(node.ops) != 1:
        return "chained comparison"
    op, right = type(node.ops[0]), node.comparators[0]
    if op in (ast.Is, ast.IsNot) and not (type(right) is ast.Constant and right.value in (None, True, False)
                                          and type(right.value) in (bool, type(None))):
        return "`is` with something other than null, true or false"
    if op in (ast.In, ast.NotIn) and not (type(right) is ast.Tuple and
                                          all(type(e) is ast.Constant and type(e.value) is str for e in right.elts)):
        return "`in` on something other than a tuple of text constants"
    if op in (ast.Eq, ast.NotEq) and not (type(right) is ast.Constant and type(right.value) is str):
        return "`==` with something other than a text constant"
    return None


def _named(node: ast.NamedExpr) -> str | None:
    target = node.target
    if type(target) is not ast.Name or not target.id.startswith("t_"):
        return "assignment expression to a non-temporary"
    return None


def _assign(node: ast.Assign) -> str | None:
    if len(node.targets) != 1 or type(node.targets[0]) is not ast.Name:
        return "assignment to something other than one name"
    return None


def _expr(node: ast.Expr) -> str | None:
    return None if type(node.value) is ast.Call else "expression statement that is not a call"


def _lambda(node: ast.Lambda) -> str | None:
    return None if len(node.args.args) == 1 else "lambda with other than one parameter"


def _listcomp(node: ast.ListComp) -> str | None:
    if len(node.generators) != 1:
        return "a comprehension with more than one loop"
    loop = node.generators[0]
    if loop.is_async or len(loop.ifs) > 1 or type(loop.target) is not ast.Name \
            or not loop.target.id.startswith("v_"):
        return "a comprehension other than one loop over a variable with at most one condition"
    return None


def _tuple(node: ast.Tuple) -> str | None:
    return None if type(node.ctx) is ast.Load else "tuple target"


def _list(node: ast.List) -> str | None:
    return None if type(node.ctx) is ast.Load else "list target"


_CHECKS = {
    ast.Name: _name, ast.Call: _call, ast.arguments: _arguments, ast.FunctionDef: _function,
    ast.Constant: _constant, ast.Dict: _dict, ast.Compare: _compare, ast.NamedExpr: _named,
    ast.Assign: _assign, ast.Expr: _expr, ast.Lambda: _lambda, ast.Tuple: _tuple, ast.List: _list,
    ast.ListComp: _listcomp,
}


def _reject(node: ast.AST, file: str, what: str) -> None:
    line = getattr(node, "lineno", None) or 1
    col = (getattr(node, "col_offset", None) or 0) + 1
    end_line = getattr(node, "end_lineno", None) or line
    end_col = (getattr(node, "end_col_offset", None) or col) + 1
    if end_line == line and end_col <= col:
        end_col = col + 1
    raise InternalError(Diagnostic(
        "I900", f"internal compiler error: the generated code failed verification ({what}); "
        "please report this with the rule file", Span(file, line, col, end_line, end_col)))
