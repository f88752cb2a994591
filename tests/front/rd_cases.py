"""Hand-picked rule texts for tests/front/test_rd_parse.py: every construct, and the corners of lexing and layout."""

from __future__ import annotations

_EXPRESSIONS = [
    # atoms
    "1", "0", "42", "3.5", "1_000_000", "1_0.0_1", "true", "false", "null", "'a'", '"a"', "''", '""',
    "'it\\'s'", '"tab\\there"', '"\\u00e9\\n\\\\"', '"a\\/b"', '"\\$x"', '"$"', '"a $ b"', '"$ {x}"',
    '"é€ 😀"', "'${not interpolated}'", '"""long"""', "'''long'''", '""""""', '"""two\nlines"""',
    '"""line\\\njoined"""', '"""a "quoted" b"""', "a", "issue", "issue.summary", "issue.custom['X']",
    "issue.custom[\"X\"]", "issue.fields.x.y.z", "len(x)", "f()", "f(1, 2)", "f(1, 2,)", "f(\n1,\n2\n)",
    "[]", "[1]", "[1, 2]", "[1, 2,]", "[\n1,\n2,\n]", "[[1], [2, [3]]]", "{}", "{a: 1}", "{a: 1, b: 2}",
    "{a: 1,}", "{'a b': 1}", '{"k": 1, other: 2}', "{a: 1\nb: 2}", "{\n  a: 1\n  b: 2\n}", "{a: 1; b: 2}",
    "{a: {b: {c: 1}}}", "{if: 1, true: 2, not: 3, let: 4}", "{'\\u0041': 1}", "(1)", "((a))", "(a).b",
    "(a)[0]", "(a.b).c(1)",
    # postfix chains
    "a.b.c", "a . b . c", "a.b(1).c", "a.b(x -> x.c)", "a[0][1]", "a[0].b", "a.b[c.d]", "a.b()[0].c()",
    "x.if", "x.let.map", "x.true", "x.not", "x.in", "xs.filter(c -> c.a).map(c -> c.b).first()",
    "x\n.trim()", "x\n  .a\n  .b()", "x // c\n.trim()", "x /* c */\n.trim()", "x\n\n.trim()", "x\n;\n.y",
    "1.x", "1.5.x", "'a'.upper()", '"""t""".trim()', "[1].len()", "{a: 1}.a", "f(x).y", "f(x)[0]",
    # prefix and binary operators
    "-1", "-1.5", "- 1", "--1", "- -1", "-(1)", "-(-1)", "-x", "-x.y", "-f(x)", "not a", "not not a",
    "not -a", "not a == b", "not a and b", "a and not b", "a or not b", "-a * b", "-a - -b",
    "a + b", "a - b", "a * b", "a / b", "a % b", "a + b * c", "a * b + c", "(a + b) * c", "a - b - c",
    "a / b / c", "a == b", "a != b", "a < b", "a <= b", "a > b", "a >= b", "a in b", "a not in b",
    "a not  in b", "a and b", "a or b", "a and b or c", "a or b and c", "a ?? b", "a ?? b ?? c",
    "a ?? b or c", "a or b ?? c", "a | b", "a | {x: 1} | {y: 2}", "a | b + c", "a == b | c", "a + 1 == b",
    "a == b and c != d", "1 < -2", "1 < - 2", "a<b", "a<=-1", "a>=b", "a-1", "a--1", "a+-1", "a*-1",
    "a in [1, 2]", "not a in b", "-a in b", "a ?? -1", "a +\nb", "a and\nb", "a or\n  b", "a ??\nb",
    "a |\nb", "a ==\nb", "a not\nin b", "a not in\nb", "not\na", "-\n1", "a in\nb",
    "1and 2", "1or x", "(1)and(2)", "(a\n  + b)",
    # conditions and lambdas
    "a if b else c", "a if b else c if d else e", "a + 1 if b == 2 else c ?? d", "(a if b else c) + 1",
    "a if b\nelse c", "x -> x", "x -> x + 1", "x -> y -> x + y", "x -> x if x else y", "if -> 1",
    "in -> 1", "f(x -> x.a, y -> y)", "[x -> x]", "{a: x -> x}",
    # interpolation
    '"${a}"', '"a${b}c"', '"${a}${b}"', '"${ a }"', "\"${a ?? 'x'}\"", "\"${f('a', 'b')}\"",
    '"${a.b[0]}"', "\"${a['k']}\"", '"${[1][0]}"', '"x ${a + 1} y"',
    '"""${a}"""', '"""\n${a}\n"""', '"""x\n  ${a +\n  b}\n"""', '"""${ "${a}" }"""', '"""${ "x${a}y" + \'z\' }"""',
    '"""${ {a: 1}.a }"""', "\"\"\"${ f('}') }\"\"\"", '"""${"a"}"""', '"""${a}\\n${b}"""', '"\\${a}"',
    '"$${a}"', '"é${a}é"', "\"${'é' + a}\"",
]

_STATEMENTS = [
    "replica.x = {e}\n", "let v = {e}\n", "replica.x += {e}\n", "replica.x -= {e}\n", "skip {e}\n",
    "fail {e}\n", "log {e}\n", "if {e} {{ skip }}\n", "for v in {e} {{ log v }}\n",
]

_PROGRAMS = [
    "", "\n", "\n\n\n", ";", ";;", "  ", "// only a comment", "/* only */", "/* multi\nline */\n",
    "replica.x = 1", "replica.x = 1\n", "replica.x = 1;", "replica.x = 1; replica.y = 2", "replica.x = 1;\n",
    "\n\nreplica.x = 1\n\n\nreplica.y = 2\n\n", "replica.x = 1 // note\n", "replica.x = 1 /* a */ + 2\n",
    "replica.x /* a\nb */ = 1\n", "replica.x =  /* a\nb */ 1\nreplica.y = 2\n", "\treplica.x\t=\t1\t\n",
    "replica.x = 1\r\nreplica.y = 2\r\n", "replica.x = 1\rreplica.y = 2\r", "replica.x = 'é'; replica.y = 'ü'\n", "replica.x = '😀😀'; replica.y = a\n", "replica.x = 1\f\n",
    "skip", "skip\n", "skip;", "skip 'why'", "if a { skip }", "if a {\n  skip\n}\n", "if a {skip}",
    "if a { skip; skip }", "if a {\n}\n", "if a {}", "if a {} else {}", "if a {}\nelse {}",
    "if a {}\n\n// c\nelse {}", "if a {} else if b {} else if c {} else {}",
    "if a {\n  x = 1\n} else if b {\n  x = 2\n}\nelse {\n  x = 3\n}\n", "if a {}; else {}",
    "if a { if b { if c { skip } } }", "if {a: 1}.a {}", "if a -> b {}", "if a if b else c {}",
    "for x in xs {}", "for x in xs { log x }", "for x in xs {\n  for y in x.ys {\n    log y\n  }\n}\n",
    "for if in xs {}", "for x in {a: 1} {}", "for x in\n  xs {}", "let x = 1", "let let = 1", "let true = 1",
    "let x =  {a: 1}", "let f = x -> x", "log 'a'", "fail 'no'", "skip not a", "skip if", "skip -1",
    "x = 1", "not = 1", "in = 1", "and.b = 1", "f(x) = 1", "x[0] = 1", "x.y[0].z = 1", "(x) = 1",
    "[x] = 1", "{a: 1}.a = 2", "true = 1", "'a' = 1", "1 = 2", "x.f(1).y = 2",
    "replica.labels += \"a\"\nreplica.labels -= 'b'\n", "replica.x = a\n  .b()\n  .c()\nreplica.y = 2\n",
    "replica.x = a\n  // comment between\n  .b()\n", "x = {\n}\n",
    "replica.x = {\n  a: 1,\n  b: [\n    1,\n    2\n  ]\n}\n", "replica.x = f(\n  a,\n  b\n)\n",
    "replica.x = a if b\n  else c\n", "replica.custom[\"k\"] = v ?? \"d\"\n", "replica.x = [\n1 // c\n, 2]\n",
    "map A.issue.s <-> B.issue.s {}\n", "map A.issue.s <-> B.issue.s {\n}\n",
    "map A.issue.s <-> B.issue.s {\n  'a' <-> 'b'\n}\n",
    "map A.issue.s <-> B.issue.s {\n  'a' <-> 'b'\n  'c' -> 'd'\n  'e' <- 'f'\n  else keep\n}\n",
    "map A.issue.s <-> B.issue.s { 'a' <-> 'b'; 'c' -> 'd'; else error }\n",
    "map A.issue.s <-> B.issue.s {\n  else default 'x'\n}\n", "map A.issue.s <-> B.issue.s { else default null }\n",
    "map A.issue.s <-> B.issue.s {\n  1 <-> 2\n  true <-> false\n  null -> 'n'\n  \"\"\"x\"\"\" <- 'y'\n}\n",
    "map A.issue.s <-> B.issue.s {\n  \"${a}\" <-> 'b'\n}\n", "map A.issue.s<->B.issue.s{'a'<->'b'}\n",
    "map A.issue.s <-> B.issue.s {\n  'a' <-> 'b' // c\n\n  // d\n  else keep\n}\n",
    "map x <-> y[0] { 'a' -> 'b' }\n", "map A.issue.s <-> B.issue.s {\n  'a' <-> 'b'\n}\nA.issue.x = B.issue.y\n",
    "Blue.issue.summary = Green.issue.summary\nGreen.issue.labels += 'x'\n",
    "replica.x = a.in\n[1] = 2\n", "replica.x = a.or\n(b) = 1\n", "x = a and\n\n  // c\n  b\n",
    # errors: the reference speaks
    "replica.x = = 1", "replica.x == 1", "replica.x = 1 +", "replica.x = (1", "replica.x = 1)", "replica.x = [1",
    "replica.x = {a: 1", "if a {", "if a }", "}", ")", "replica.x = 1 && 2", "replica.x = a < b < c",
    "replica.x = a == not b", "replica.x = - not a", "replica.x = 'abc", "replica.x = \"abc", "replica.x = \"\"\"abc",
    "replica.x = /* abc", "replica.x = a.", "replica.x = a.1", "replica.x = .a", "let x == 1", "let x += 1",
    "let x.y = 1", "let = 1", "for x xs {}", "for x in xs", "if a else {}", "if a {} else", "if a {} else x {}",
    "replica.x = a if b", "replica.x = a if b else", "replica.x = {'${a}': 1}", "replica.x = {a b: 1}",
    "replica.x = {a: 1\n, b: 2}", "replica.x = f(a; b)", "replica.x = [a; b]", "replica.x = \"\\q\"",
    "replica.x = \"\\u12\"", "replica.x = \"\\ud800\"", "replica.x = \"${}\"", "replica.x = \"${ }\"",
    "replica.x = \"\"\"${a\"\"\"", "replica.x = \"\"\"${a\n}\"\"\"", "replica.x = a b", "replica.x = 1 2",
    "replica.x = a =\n1", "replica.x =\n1", "x = 1 y = 2", "replica.x = #", "replica.x = a ! b", "replica.x = a ? b",
    "replica.x = é", "replica.x = _a", "replica.x = 1__0", "replica.x = a\u00a0+ b", "replica.x = a\v+ b",
    "replica.x = x -> ", "replica.x = a + x -> y", "replica.x = a if x -> y else z", "replica.x = true -> 1",
    "replica.x = not -> 1", "skip skip", "log", "fail", "map A <-> B", "map A <-> B {", "map A <- B {}",
    "map A <-> B { 'a' }", "map A <-> B { 'a' <-> }", "map A <-> B { a <-> 'b' }", "map A <-> B { else }",
    "map A <-> B { else nope }", "map A <-> B { else keep\n'a' <-> 'b' }", "map A <-> B { 'a' <-> 'b' 'c' <-> 'd' }",
    "map A <-> B { -1 <-> 2 }", "replica.x = [1,,2]", "replica.x = f(,)", "replica.x = {,}",
    "replica.x = a.b(1)(2)", "replica.x = (a)(1)", "replica.x = 1 <-> 2", "replica.x = 'a' -> 'b'",
    "replica.x = a\nelse b", "else {}", "replica.x = 1\n.5",
]

_LINE_ENDS = ["\n", "\r\n", ";", "  // c\n", " /* c */\n"]


def _handled() -> list[str]:
    out = [_STATEMENTS[k % len(_STATEMENTS)].format(e=e) for k, e in enumerate(_EXPRESSIONS)]
    out += ["replica.x = " + e + "\n" for e in _EXPRESSIONS]
    out += _PROGRAMS
    body = "replica.summary = issue.summary{end}let v = issue.labels.filter(l -> l != 'x'){end}if v {{ log v }}{end}"
    out += [body.format(end=end) for end in _LINE_ENDS]
    return list(dict.fromkeys(out))


HANDLED = _handled()

# Valid or not, these the RD parser leaves to Lark: its one-pass lexer reads them otherwise than Lark's
# contextual lexer might (`a input` is an unexpected name there, `<-` after a literal an arrow), or they
# are forms too rare to be worth a rule (a keyword literal before a dot at the start of a statement).
FALLS_BACK = [
    "replica.x = a input\n", "replica.x = a orb\n", "replica.x = 1if c else 2 == 1 input\n",
    "replica.x = a <-1\n", "replica.x = 1 <-2\n", "for x inxs {}\n", "if a {} elseif b {}\n",
    "true.x = 1\n", "replica.x = a not inx\n", "let v = a.in\n[1]\n",
    "let v = in\n[1] = 2\n", "replica.x = not.x\n", "map A <-> B { 'a' <-> 'b'; else keeper }\n",
]
