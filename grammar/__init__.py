"""The rulelang grammars (.lark files), shipped as package data."""

from importlib import resources

__all__ = ["read"]


def read(name: str) -> str:
    """Return the text of the grammar file `name` (e.g. "rules.lark")."""
    return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
