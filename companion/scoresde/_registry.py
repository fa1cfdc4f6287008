r"""Registries filled by a decorator where each entry is defined (score_sde's ``register_predictor`` style).

A new solver, predictor, corrector, SDE or CLI sampler is one decorated definition; every list of names (the
CLI's ``choices``, the samplers' accepted ``method``/``predictor`` values, the error messages) is read from its
registry when it is needed, so nothing is kept by hand::

    @register_solver
    class MySolver(Solver, name="mine", calculus=("ito",), orders={"additive": (1.0, 1.0)}): ...

A registry may also show the entries of another one that pass a test (:meth:`Registry.view`): the predictors
are the registered solvers that accept additive noise plus the discrete-chain predictors.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, Generic, TypeVar

__all__ = ["Registry"]

T = TypeVar("T")
D = TypeVar("D")


class Registry(Mapping[str, T], Generic[T]):
    """Names to entries, in the order they were registered (a read-only mapping, live).

    Args:
        kind: what an entry is, for messages (``"solver"``, ``"predictor"``...).
        build: turns the decorated object into the stored entry (e.g. a solver class into its one instance);
            default: the object itself.
        also: entries shown before this registry's own, computed on every look-up (a view of another registry).
    """

    def __init__(self, kind: str, *, build: Callable[[Any], T] | None = None,
                 also: Callable[[], Mapping[str, T]] | None = None) -> None:
        self.kind = kind
        self._build = build
        self._also = also
        self._own: dict[str, T] = {}

    # ------------------------------------------------------------------ the mapping
    def _all(self) -> dict[str, T]:
        return {**(self._also() if self._also is not None else {}), **self._own}

    def __getitem__(self, name: str) -> T:
        entries = self._all()
        if name not in entries:
            raise KeyError(name)
        return entries[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())

    @property
    def names(self) -> tuple[str, ...]:
        """The registered names, in registration order (the ``choices`` of the CLI)."""
        return tuple(self._all())

    # ------------------------------------------------------------------ filling it
    def register(self, obj: D | None = None, *, name: str | None = None) -> Any:
        """Register ``obj`` under ``name`` (default: ``obj.name``); usable as ``@reg.register``,
        ``@reg.register(name="x")`` or a plain call. Returns ``obj`` unchanged.

        Raises:
            TypeError: no usable name.
            ValueError: the name is taken (in this registry or the one it views).
        """
        def add(o: D) -> D:
            key = name if name is not None else getattr(o, "name", None)
            if not isinstance(key, str) or not key:
                raise TypeError(f"a {self.kind} needs a non-empty string name, got {key!r}")
            if key in self._all():
                raise ValueError(f"a {self.kind} named {key!r} is already registered")
            self._own[key] = self._build(o) if self._build is not None else o  # type: ignore[assignment]
            return o

        return add if obj is None else add(obj)

    def remove(self, name: str) -> None:
        """Forget the entry ``name`` registered here (a test's toy entry).

        Raises:
            KeyError: ``name`` was not registered in this registry itself.
        """
        if name not in self._own:
            raise KeyError(f"no {self.kind} {name!r} was registered here")
        del self._own[name]

    def view(self, kind: str, keep: Callable[[T], bool], *, build: Callable[[Any], T] | None = None) -> Registry[T]:
        """A new registry that shows this one's entries passing ``keep`` (always current), then its own
        (made by ``build`` when registered)."""
        return Registry(kind, build=build, also=lambda: {n: e for n, e in self._all().items() if keep(e)})

    # ------------------------------------------------------------------ looking up
    def lookup(self, name: Any, argname: str) -> T:
        """The entry registered as ``name``, else one clear error naming the argument and the choices.

        Raises:
            TypeError: ``name`` is not a string.
            ValueError: no such entry.
        """
        if not isinstance(name, str):
            raise TypeError(f"{argname} must be one of {self.names}, got {type(name).__name__}")
        entries = self._all()
        if name not in entries:
            raise ValueError(f"unknown {argname} {name!r}; expected one of {tuple(entries)}")
        return entries[name]

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}: {', '.join(self.names)})"
