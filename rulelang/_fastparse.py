"""The fast path of `parse`: a tight LALR loop over Lark's own parse table with a per-state regex lexer.

Lark's LALR analysis of grammar/rules.lark (its parse table, built once and cached) drives the
parse: for every state the loop looks up Shift/Reduce exactly as Lark's parser does, and lexes
each token with the terminals that state accepts, as Lark's contextual lexer does (with two
shortcuts that give the same tokens: a character that starts only one one-character terminal,
and a word where NAME is acceptable). What
`_lexing.PostLexer` does between Lark's lexer and parser (statement ends, brackets, nesting)
happens inline. One-symbol reductions are taken in one step per token (their chain depends only
on the state below), and a line `a.b = c.d` in one go where the table allows it (_fastshort.py).
The loop only handles text that parses: on anything else it raises `Fallback`
and `parse` runs Lark's own parser on the same text, which gives the diagnostics.
"""

from __future__ import annotations

from typing import Any

from . import nodes as n
from ._fastbuild import callbacks
from ._fastlex import (
    CLOSE,
    IGNORED,
    LETTERS,
    MULTILINE,
    NAME_REGEX,
    NEWLINE,
    OPEN,
    PLAIN,
    RETYPE,
    SINGLE,
    LexTables,
)
from ._fastnodes import Fallback
from ._fastshort import ASSIGN_LINE, AssignPlan, assign_plan, line_builder, may_start
from ._lexing import BINARY_OPERATORS, _continues

# How each of Lark's (expanded) grammar rules builds its value: the name of a callback in
# _fastbuild.callbacks, or the position of the child it passes through unchanged.
RULES: dict[str, str | int] = {
    "start: __start_star_0 _stmt": "start_plus", "start: __start_star_0": "start_list",
    "start: _stmt": "start_one", "start: ": "start_empty",
    "__start_star_0: _stmt _NL": "stmts_first", "__start_star_0: __start_star_0 _stmt _NL": "stmts_more",
    "block: LBRACE __start_star_0 _stmt RBRACE": "block", "block: LBRACE __start_star_0 RBRACE": "block",
    "block: LBRACE _stmt RBRACE": "block", "block: LBRACE RBRACE": "block",
    **{f"_stmt: {s}": 0 for s in ("assign", "let", "if_stmt", "for_stmt", "skip", "fail", "log", "value_map")},
    "assign: postfix ASSIGN_OP expr": "assign",
    "let: LET NAME EQUAL expr": "let",
    "if_stmt: IF expr block __if_stmt_star_1 ELSE block": "if_stmt",
    "if_stmt: IF expr block __if_stmt_star_1": "if_stmt",
    "if_stmt: IF expr block ELSE block": "if_stmt", "if_stmt: IF expr block": "if_stmt",
    "__if_stmt_star_1: ELSE IF expr block": "elifs_first",
    "__if_stmt_star_1: __if_stmt_star_1 ELSE IF expr block": "elifs_more",
    "for_stmt: FOR NAME IN expr block": "for_stmt",
    "skip: SKIP expr": "skip", "skip: SKIP": "skip", "fail: FAIL expr": "fail", "log: LOG expr": "log",
    **{f"value_map: MAP postfix BOTH_WAYS postfix LBRACE {mid}RBRACE": "value_map"
       for mid in ("map_rule __value_map_star_2 map_else ", "map_rule __value_map_star_2 ", "map_rule map_else ",
                   "map_rule ", "map_else ", "")},
    "__value_map_star_2: _NL map_rule": "map_rules_first",
    "__value_map_star_2: __value_map_star_2 _NL map_rule": "map_rules_more",
    "map_rule: literal map_arrow literal": "map_rule",
    "map_arrow: BOTH_WAYS": "map_arrow", "map_arrow: ARROW": "map_arrow", "map_arrow: LEFT_ARROW": "map_arrow",
    "map_else: ELSE ELSE_KIND": "map_else", "map_else: ELSE DEFAULT literal": "map_else",
    "expr: lambda_": 0, "expr: cond": 0,
    "lambda_: NAME ARROW expr": "lambda_",
    "cond: operators": 0, "cond: operators IF operators ELSE cond": "cond",
    "operators: postfix": 0,
    "operators>chain: __operators_star_3 postfix __operators_star_4": "chain",
    "operators>chain: __operators_star_3 postfix": "chain",
    "operators>chain: postfix __operators_star_4": "chain",
    "__operators_star_3: _prefix_op": "prefixes_first",
    "__operators_star_3: __operators_star_3 _prefix_op": "prefixes_more",
    "__operators_star_4: _binop __operators_star_3 postfix": "ops_tail",
    "__operators_star_4: _binop postfix": "ops_tail",
    "__operators_star_4: __operators_star_4 _binop __operators_star_3 postfix": "ops_tail",
    "__operators_star_4: __operators_star_4 _binop postfix": "ops_tail",
    "_prefix_op: NOT": 0, "_prefix_op: MINUS": 0,
    **{f"_binop: {t}": 0 for t in ("COALESCE", "OR", "AND", "COMP_OP", "IN", "VBAR", "ADD_OP", "MUL_OP")},
    "_binop: NOT IN": "not_in",
    "postfix: atom": 0,
    "postfix>attr: postfix DOT NAME": "attr",
    "postfix>method_call: postfix DOT NAME LPAR args RPAR": "method_call",
    "postfix>method_call: postfix DOT NAME LPAR RPAR": "method_call",
    "postfix>index: postfix LSQB expr RSQB": "index",
    "args: expr __args_star_5 COMMA": "args", "args: expr __args_star_5": "args",
    "args: expr COMMA": "args", "args: expr": "args",
    "__args_star_5: COMMA expr": "exprs_first", "__args_star_5: __args_star_5 COMMA expr": "exprs_more",
    "atom>name: NAME": "name",
    "atom>call: NAME LPAR args RPAR": "call", "atom>call: NAME LPAR RPAR": "call",
    "atom: literal": 0,
    **{f"atom>list_lit: LSQB {mid}RSQB": "list_lit"
       for mid in ("expr __args_star_5 COMMA ", "expr __args_star_5 ", "expr COMMA ", "expr ", "")},
    **{f"atom>map_lit: LBRACE {mid}RBRACE": "map_lit"
       for mid in ("map_item __atom_star_6 COMMA ", "map_item __atom_star_6 ", "map_item COMMA ", "map_item ", "")},
    "atom: LPAR expr RPAR": 1,
    "__atom_star_6: COMMA map_item": "items_first", "__atom_star_6: _NL map_item": "items_first",
    "__atom_star_6: __atom_star_6 COMMA map_item": "items_more",
    "__atom_star_6: __atom_star_6 _NL map_item": "items_more",
    "map_item: NAME COLON expr": "map_item", "map_item: STRING COLON expr": "map_item",
    **{f"literal: {t}": "literal" for t in ("STRING", "LONG_STRING", "NUMBER", "TRUE", "FALSE", "NULL")},
}

# After these tokens a newline cannot end a statement (as in _lexing.PostLexer).
_NO_END_AFTER = frozenset({None, "LBRACE", "COMMA", "_NL"}) | BINARY_OPERATORS
_OPEN = {"LBRACE": "{", "LSQB": "[", "LPAR": "("}
_CLOSE = {"RBRACE": "{", "RSQB": "[", "RPAR": "("}


def rule_key(rule: Any) -> str:
    """A Lark rule as `origin>alias: symbols`, the key of RULES."""
    alias = f">{rule.alias}" if rule.alias else ""
    return f"{rule.origin.name}{alias}: " + " ".join(s.name for s in rule.expansion)


class FastParser:
    """The LALR loop over a Lark instance's parse table; `parse` gives nodes equal to the Lark path's, or raises Fallback."""

    def __init__(self, lark_instance: Any, always_accept: tuple[str, ...]) -> None:
        parser = lark_instance.parser.parser.parser  # lark's _Parser: parse_table and callbacks
        table = parser.parse_table
        self.lex = LexTables(lark_instance.terminals, list(lark_instance.lexer_conf.ignore),
                             {s: set(acts) for s, acts in table.states.items()}, always_accept)
        self.start_states = dict(table.start_states)
        self.end_states = dict(table.end_states)
        # Per state, symbol → what to do: an int is a shift (or, for a rule name, the goto); a str
        # is a rule that passes its one child through (named by its origin); a list [callback,
        # origin] a rule of one symbol with a callback; a tuple (size, callback, origin, keep) any
        # other rule, whose value is the child at `keep`, or the callback's when keep is -1.
        names: list[str] = []
        self.actions: list[dict[str, Any]] = [{} for _ in range(max(table.states) + 1)]
        for state, acts in table.states.items():
            row = self.actions[state]
            for sym, (action, arg) in acts.items():
                # A freshly built table names symbols with lark Tokens (str subclasses), a cached one with
                # plain str: the loop tells actions apart by exact class, so names are made plain here.
                sym = str(sym)
                if action.name == "Shift":
                    row[sym] = arg
                    continue
                origin = str(arg.origin.name)
                how = RULES[rule_key(arg)]  # KeyError: the grammar changed; RULES must follow
                if how == 0 and len(arg.expansion) == 1:
                    row[sym] = origin
                elif isinstance(how, int):
                    row[sym] = (len(arg.expansion), -1, origin, how)
                else:
                    if how not in names:
                        names.append(how)
                    if len(arg.expansion) == 1:
                        row[sym] = [names.index(how), origin]
                    else:
                        row[sym] = (len(arg.expansion), names.index(how), origin, -1)
        self.fn_names = names
        self.assign_line = len(names)  # not a rule's callback: the one-line shortcut's, after them in `fns`
        self.starts: dict[int, bool] = {}  # state → whether an assignment line may start there (may_start)
        self.plans: dict[tuple[int, int, int], AssignPlan | None] = {}  # (state, links, links) → assign_plan
        # The loop's copy of the table: each one-symbol reduction (a pass-through, or a callback on the
        # top value) becomes a dict, state below → (state after every such reduction the token
        # triggers there, the callbacks they run): they only change the top of the stack.
        self.loop_actions = [{sym: {} if act.__class__ in (str, list) else act for sym, act in row.items()}
                             for row in self.actions]
        self.trace: list | None = None  # tests: every token fed to the table, as it is lexed

    def _hop(self, below: int, state: int, typ: str) -> tuple[int, tuple[int, ...]]:
        """The state after every one-symbol reduction the token triggers on top of `below`, and their callbacks in order
        (KeyError where the table has no action: the loop then falls back, as it would step by step)."""
        first = state
        fns: list[int] = []
        act = self.actions[state][typ]
        while act.__class__ is str or act.__class__ is list:
            if act.__class__ is list:
                fns.append(act[0])
                act = act[1]
            state = self.actions[below][act]
            act = self.actions[state][typ]
        hop = self.loop_actions[first][typ][below] = (state, tuple(fns))
        return hop

    def parse(self, text: str, file: str, start: str, max_nesting: int, max_operators: int) -> tuple[Any, int]:
        """The value of `start` for the text, and an upper bound on the tree height of any one statement."""
        ctx: list = [0, []]  # tokens lexed by `${…}` parts, and (depth offset, open brackets) of each running loop

        def sub_parse(sub: str, line: int, col: int, offset: int) -> n.Expr:
            depth_offset, brackets = ctx[1][-1]
            value, _longest, count = self._run(sub, "expr", line, col, offset, depth_offset + len(brackets), fns,
                                               ctx, max_nesting)
            ctx[0] += count
            return value

        by_name = callbacks(file, max_operators, sub_parse)
        fns = [*(by_name[nm] for nm in self.fn_names), line_builder(file)]
        value, longest, _count = self._run(text, start, 1, 1, 0, 0, fns, ctx, max_nesting)
        return value, longest

    def _run(self, text: str, start: str, line: int, col: int, off: int, depth_offset: int, fns: list,
             ctx: list, max_nesting: int) -> tuple[Any, int, int]:
        """One LALR parse of `text` (the file, or a `${…}` part placed at line/col/offset in it).

        Returns the value; the most tokens (counting those of `${…}` parts) between two statement
        ends at the top level (each node has more tokens than any of its children, so no
        statement's tree is taller than that); and the number of tokens lexed here.
        """
        actions = self.loop_actions
        lexers = self.lex.lexers
        get_lexer = self.lex.get
        name_match = NAME_REGEX.match
        single_get = SINGLE.get
        letters = LETTERS
        no_end_after = _NO_END_AFTER
        opening, closing = _OPEN, _CLOSE
        trace = self.trace
        starts, plans = self.starts, self.plans
        assign_match = ASSIGN_LINE.match
        assign_line = fns[self.assign_line]
        states = [self.start_states[start]]
        values: list = []
        brackets: list[str] = []
        ctx[1].append((depth_offset, brackets))
        state = states[0]
        pos = 0
        line_start = 1 - col  # so that col = pos - line_start + 1 on the first line
        last = None
        ntok = 0
        run_start = 0
        longest = 0
        try:
            while True:
                ch = text[pos:pos + 1]
                if ch == " ":
                    pos += 1
                    ch = text[pos:pos + 1]
                single = single_get(ch)
                if single is not None:
                    typ, kind = single
                    begin = pos
                    pos += 1
                    if kind == PLAIN:
                        c = begin - line_start + 1
                        tok = (typ, ch, begin + off, pos + off, line, c, line, c + 1)
                        kind = -1  # the token is made
                elif ch in letters and (lx := lexers.get(state) or get_lexer(state)).name_kind is not None:
                    begin = pos
                    pos = name_match(text, pos).end()
                    typ = "NAME"
                    kind = lx.name_kind
                else:
                    lx = lexers.get(state) or get_lexer(state)
                    m = lx.regex.match(text, pos)
                    if m is None:
                        raise Fallback
                    k = m.lastindex
                    kind = lx.kinds[k]
                    begin, pos = m.span(k)
                    typ = lx.names[k]
                if kind < 0:
                    pass
                elif kind <= RETYPE:
                    val = text[begin:pos]
                    if kind:
                        typ = lx.retype[typ].get(val, typ)
                    c = begin - line_start + 1
                    tok = (typ, val, begin + off, pos + off, line, c, line, c + pos - begin)
                elif kind == NEWLINE:
                    val = text[begin:pos]
                    c = begin - line_start + 1
                    if val == "\n":
                        tok = ("_NL", val, begin + off, pos + off, line, c, line + 1, 1)
                        line += 1
                        line_start = pos
                    else:
                        tok = ("_NL", val, begin + off, pos + off, line, c, line, c + 1)
                    if brackets and brackets[-1] != "{":
                        if val == ";":
                            raise Fallback
                        continue
                    if last in no_end_after or _continues(text, pos):
                        continue
                elif kind == OPEN or kind == CLOSE:
                    c = begin - line_start + 1
                    tok = (typ, text[begin:pos], begin + off, pos + off, line, c, line, c + 1)
                    if kind == OPEN:
                        brackets.append(opening[typ])
                        if len(brackets) + depth_offset > max_nesting:
                            raise Fallback
                    elif not brackets or brackets.pop() != closing[typ]:
                        raise Fallback
                elif kind == IGNORED or kind == MULTILINE:
                    val = text[begin:pos]
                    nl = val.count("\n")
                    c = begin - line_start + 1
                    if nl:
                        line_start = begin + val.rindex("\n") + 1
                    if kind == IGNORED:
                        line += nl
                        continue
                    tok = (typ, val, begin + off, pos + off, line, c, line + nl, pos - line_start + 1 if nl else c + pos - begin)
                    line += nl
                else:  # the end of the text
                    if brackets:
                        raise Fallback
                    value = self._end(states, values, fns, self.end_states[start])
                    total = ntok + ctx[0]
                    return value, max(longest, total - run_start), ntok
                last = typ
                ntok += 1
                if trace is not None:
                    trace.append((typ, tok[1], tok[2] - off, tok[3] - off, tok[4], tok[5], tok[6], tok[7], off))
                # Feed the token to the LALR table: reduce as long as it says so, then shift.
                while True:
                    act = actions[state][typ]
                    cls = act.__class__
                    if cls is int:
                        break
                    if cls is dict:  # one-symbol reductions: the top value and state are replaced in place
                        hop = act.get(states[-2])
                        if hop is None:
                            hop = self._hop(states[-2], state, typ)
                        state, calls = hop
                        for fn in calls:
                            values[-1] = fns[fn](values[-1:])
                        states[-1] = state
                        continue
                    size, fn, origin, keep = act
                    if size:
                        popped = values[-size:]
                        del values[-size:]
                        del states[-size:]
                    else:
                        popped = []
                    values.append(popped[keep] if keep >= 0 else fns[fn](popped))
                    state = actions[states[-1]][origin]
                    states.append(state)
                if typ == "NAME":
                    start_here = starts.get(state)
                    if start_here is None:
                        start_here = may_start(self, state)
                    if (start_here and (m := assign_match(text, pos)) is not None
                            and (not brackets or brackets[-1] == "{") and trace is None):
                        key = (state, m.group(1).count("."), m.group(4).count("."))
                        plan = plans.get(key, plans)  # `plans` itself: not looked at yet
                        if plan is plans:
                            plan = plans[key] = assign_plan(self, *key)
                        if (plan is not None and (plan.comment or m.group(5) is None)
                                and m.group(3) not in plan.value_keywords and not _continues(text, m.end())):
                            # The whole line at once (_fastshort): the stack as the token loop leaves it.
                            node, nl = assign_line(text, begin, m, line, line_start, off)
                            states += plan.states
                            values += (node, nl)
                            state = plan.states[1]
                            ntok += 3 + 2 * (key[1] + key[2])
                            last = "_NL"
                            pos = line_start = m.end()
                            line += 1
                            if not brackets:
                                total = ntok + ctx[0]
                                if total - run_start > longest:
                                    longest = total - run_start
                                run_start = total
                            continue
                elif typ == "_NL" and not brackets:
                    total = ntok + ctx[0]
                    if total - run_start > longest:
                        longest = total - run_start
                    run_start = total
                states.append(act)
                values.append(tok)
                state = act
        except (IndexError, KeyError, RecursionError) as e:
            raise Fallback from e
        finally:
            ctx[1].pop()

    def _end(self, states: list[int], values: list, fns: list, end_state: int) -> Any:
        """Feed the end of the text: reduce until the start symbol is complete (the same reduction as the
        feeding loop's, which keeps its own copy inline so the hot loop makes no call per reduction)."""
        actions = self.actions
        while True:
            act = actions[states[-1]]["$END"]
            if act.__class__ is int:
                raise Fallback
            if act.__class__ is str:
                act = (1, -1, act, 0)
            elif act.__class__ is list:
                act = (1, act[0], act[1], -1)
            size, fn, origin, keep = act
            if size:
                popped = values[-size:]
                del values[-size:]
                del states[-size:]
            else:
                popped = []
            values.append(popped[keep] if keep >= 0 else fns[fn](popped))
            state = actions[states[-1]][origin]
            states.append(state)
            if state == end_state:
                return values[-1]

