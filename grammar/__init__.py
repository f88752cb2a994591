"""The rulelang grammars (.lark files), shipped as package data, and where Lark may cache their analysis."""

from __future__ import annotations

import hashlib
import os
from importlib import resources

__all__ = ["read", "cache_file"]


def read(name: str) -> str:
    """Return the text of the grammar file `name` (e.g. "rules.lark")."""
    return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")


def cache_file(name: str) -> str | bool:
    """A per-user file for Lark's cache of the grammar `name`, or False when none can be used safely.

    Lark's cache is a pickle, so it lives in a folder only this user can write
    (never a shared temp folder, where another user could plant one).
    """
    import lark

    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = os.path.join(base, "rulelang")
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        st = os.stat(folder)
        if hasattr(os, "getuid") and (st.st_uid != os.getuid() or st.st_mode & 0o022):
            return False
    except OSError:
        return False
    digest = hashlib.sha256(f"{lark.__version__}\0{read(name)}".encode()).hexdigest()[:16]
    return os.path.join(folder, f"{name.removesuffix('.lark')}-{digest}.lark-cache")
