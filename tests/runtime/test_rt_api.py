

def test_a_program_of_the_wrong_kind_is_refused_with_r118() -> None:
    import pytest

    from rulelang.errors import RulelangError
    from runtime import compile_rules

    with pytest.raises(RulelangError) as got:
        compile_rules("Blue.issue.summary = Green.issue.summary", "c.rules")
    assert got.value.diagnostic.code == "R118"
    assert got.value.diagnostic.message == "a connection program cannot be run directly: split it with `rulelang split`"
    rules = compile_rules("replica.summary = issue.summary", "out.rules")
    with pytest.raises(RulelangError) as got:
        rules.run_incoming({"summary": "x"})
    assert got.value.diagnostic.code == "R118"
    assert got.value.diagnostic.message == "these are outgoing rules; run_incoming needs incoming rules"
