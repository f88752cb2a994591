"""The budgeted iteration behind `.map(x -> …)` and `.filter(x -> …)` compiled to list comprehensions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .budget import State, Trap, tick
from .functions import CHUNK, charge_steps, chunks
from .values import check_items, type_name

__all__ = ["rt_iter", "rt_kept", "Chunked", "LIST_ITERATOR", "ITERATION"]

LIST_ITERATOR = type(iter([]))


class Chunked:
    """A list longer than CHUNK, handed out a chunk at a time: each chunk's steps are charged (and the clock
    looked at) before its elements reach the comprehension, as `rt_m_map`/`rt_m_filter` do for long lists."""

    __slots__ = ("rt", "xs")

    def __init__(self, rt: State, xs: list) -> None:
        self.rt, self.xs = rt, xs

    def __iter__(self) -> Iterator[Any]:
        for chunk in chunks(self.xs):
            charge_steps(self.rt, len(chunk))
            yield from chunk


def rt_iter(rt: State, xs: Any, method: str) -> Iterator[Any] | Chunked:
    """What a `.map`/`.filter` comprehension loops over, with that method's budget: one step per element
    (charged up front for a short list, per chunk for a long one; a long map's result size is checked
    before it is built). Null is the empty list; anything else that is not a list is the method's error."""
    if type(xs) is not list:
        if xs is not None:
            raise Trap("X405", f".{method}() works on a list, not on {type_name(xs)}")
        xs = []
    if len(xs) <= CHUNK:  # the common case: one charge, then the comprehension runs free
        rt.steps += len(xs)
        if rt.steps > rt.check_at:
            tick(rt)
        return iter(xs)  # an iterator, not the list: `_getiter_` refuses plain lists (only rt_iter makes these)
    if method == "map":
        check_items(rt, len(xs))
    return Chunked(rt, xs)


def rt_kept(rt: State, looped: Iterator[Any] | Chunked, kept: list) -> list:
    """A `.filter` comprehension's result: after a long list, its size is checked, as `rt_m_filter` does."""
    if type(looped) is Chunked:
        check_items(rt, len(kept))
    return kept


ITERATION: dict[str, Any] = {"rt_iter": rt_iter, "rt_kept": rt_kept}
