"""One progress bar for every loop of the package (training, solving, sampling), imported only when shown.

``with progress_bar(show, total=n, desc="...") as bar: ... bar.update(1)``: a ``tqdm`` bar on standard error when
``show`` is true, otherwise an object with the same two methods that does nothing, so a loop never tests whether
it has a bar. Plain ``tqdm`` everywhere (a text bar in a terminal and in a notebook; no widget dependency).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from ._checks import check_bool

__all__ = ["Bar", "progress_bar"]


class Bar(Protocol):
    """What a loop may do with its bar."""

    def update(self, n: int = 1) -> Any: ...

    def set_postfix(self, **values: Any) -> Any: ...


class _Silent:
    def update(self, n: int = 1) -> None:
        return None

    def set_postfix(self, **values: Any) -> None:
        return None


@contextmanager
def progress_bar(show: bool, *, total: int, desc: str, initial: int = 0) -> Iterator[Bar]:
    """A ``tqdm`` bar of ``total`` steps (starting at ``initial``) when ``show``, a silent one otherwise; closed
    on exit, also when the loop raises."""
    if not check_bool(show, "progress"):
        yield _Silent()
        return
    from tqdm import tqdm  # lazily: no tqdm at import time

    bar = tqdm(total=total, initial=initial, desc=desc)
    try:
        yield bar
    finally:
        bar.close()
