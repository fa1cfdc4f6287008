r"""Self-check for the chapters' exercises: ``check("3.1", answer)`` says *correct* or *not yet*, with a hint.

Every chapter ends with exercises whose worked solutions are folded in the book. A student who wants to know
whether an answer is right, without unfolding the solution, asks this package::

    from scoresde.exercises import check
    check("3.1", 14)                     # a number: judged at the precision typed
    check("3.2", "t**3/3")               # an expression: a string or a sympy expression, compared by sympy
    check("6.2", ["x1", "x2"])           # several expressions: a list (or tuple, or sympy vector)
    check("ex-02-ula-code", ula_step)    # a function: run on hidden cases in a child process
    print(check("3.2", my_expression))   # inside a cell, print it; at the end of a cell it shows itself

The reply is a :class:`CheckResult`: ``bool(result)`` is ``True`` only for a correct answer, and its text
(``str``/``repr``) is the bilingual verdict. It never contains the expected answer: a wrong answer gets the
exercise's hint, and for an expression a structural remark (off by a constant factor or by an additive
constant), never the value. An answer that cannot be read (a string for a number, an unknown symbol, a list
of the wrong length, NaN, too few digits) gets status ``"malformed"`` and a message saying what form is expected.

**Ids.** Each exercise is registered under its MyST label (``"ex-07-shared-code"``), the key that never changes.
Its number ``"<chapter>.<k>"`` (``"7.6"``: the sixth exercise of chapter 7, as the book numbers it) is an alias
computed from the order of :data:`scoresde.exercises.answers.EXERCISES`, which is the notebooks' order; both work,
with surrounding spaces ignored. :func:`exercise_ids` lists the numbers, :func:`describe` says what form an answer
takes, :func:`hint` gives the hint. An unknown id is a ``ValueError`` whose one line, in both languages, names the
nearest ids.

Kinds of answers, one checker each (:mod:`scoresde.exercises.kinds`, :mod:`scoresde.exercises.code`):

* ``"number"`` — a real number (int, float, NumPy/torch scalar, one-element tensor, numeric sympy value), judged
  at the precision typed: ``0.59`` is *correct to 2 significant digits* when the exact value rounds to it, and
  each exercise states the fewest digits it accepts (:func:`scoresde.exercises.kinds.check_number`).
* ``"expression"`` — a sympy expression, a string that sympy parses (``^`` means power), or a number; written
  in the exercise's symbols (matched by name); correct when both agree, to 25 digits, at random points of the
  symbols' domains (a tiny ``simplify`` decides where the points cannot). Some exercises ask for several
  expressions: pass a list, a tuple, a sympy vector, or one string such as ``"(1/s**2, mu)"``.
* ``"choice"`` — one of a few labelled options (a string, case and surrounding spaces ignored).
* ``"code"`` — a function, run on hidden cases in a child process that is killed past the time limit, and
  compared with a reference that calls the package's own functions (:mod:`scoresde.exercises.code`).

sympy is imported only when an expression is checked. A string answer is data, never code: it is read by
:func:`scoresde.exercises.safe_expr.parse_answer` (Python's ``ast`` with an allow-list and bounds on sizes).
"""

from __future__ import annotations

import base64
import difflib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from numbers import Real
from typing import Any, Literal

from .._checks import check_choice
from .answers import EXERCISES
from .code import CodeExercise, run_cases
from .kinds import Malformed, check_expression, check_number
from .kinds import check_choice as check_option

__all__ = ["CheckResult", "Exercise", "KINDS", "check", "describe", "hint", "exercise_ids"]

KINDS: tuple[str, ...] = ("number", "expression", "choice", "code")
Status = Literal["correct", "not yet", "malformed"]

_CORRECT = ("✓ correct", "正確")
_NOT_YET = "✗ not yet · 還不對"
_MALFORMED = "? cannot check this answer · 無法檢查這個答案"


@dataclass(frozen=True)
class Exercise:
    """One registered exercise: what form its answer takes, how it is compared, and its hint.

    Attributes:
        label: the ``{exercise}``'s label in the chapter notebook (the registry's key).
        chapter, number: its place in the book: the id ``"<chapter>.<number>"`` is an alias of the label.
        kind: one of :data:`KINDS`.
        form: (English, 繁體中文) description of what to pass — never the answer itself.
        hint: (English, 繁體中文) hint shown with a wrong answer.
        encoded: the expected answer, JSON then base64 (:attr:`expected` decodes it).
        digits: for ``"number"``: the fewest significant digits a typed number may give.
        symbols: for ``"expression"``: symbol name -> sympy assumptions (e.g. ``{"t": {"positive": True}}``).
        relations: for ``"expression"``: symbol name -> an expression in the other symbols that the statement
            imposes (e.g. ``{"s": "sqrt(1 - a**2)"}`` for :math:`a^2+s^2=1`), substituted into both the answer and
            the expected expression before they are compared, so an answer right under the constraint is right.
        options: for ``"choice"``: the allowed labels.
        code: for ``"code"``: the reference function and hidden cases (:class:`scoresde.exercises.code.CodeExercise`).
    """

    label: str
    chapter: int
    number: int
    kind: str
    form: tuple[str, str]
    hint: tuple[str, str]
    encoded: str = ""
    digits: int = 3
    symbols: Mapping[str, Mapping[str, bool]] = field(default_factory=dict)
    relations: Mapping[str, str] = field(default_factory=dict)
    options: tuple[str, ...] = ()
    code: CodeExercise | None = None

    @property
    def exercise_id(self) -> str:
        return f"{self.chapter}.{self.number}"

    @property
    def expected(self) -> Any:
        return _decode(self.encoded)


@dataclass(frozen=True)
class CheckResult:
    """The verdict on one answer. ``bool(result)`` is ``True`` only when the answer is correct.

    Its text (``str(result)``, and its ``repr`` so that a notebook shows it) is the bilingual message;
    it never contains the expected answer.
    """

    exercise_id: str
    status: Status
    message: str

    @property
    def correct(self) -> bool:
        return self.status == "correct"

    def __bool__(self) -> bool:
        return self.correct

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return self.message


def _encode(value: Any) -> str:
    """Encode an expected answer for :mod:`scoresde.exercises.answers` (maintainers' helper)."""
    return base64.b64encode(json.dumps(value).encode("utf-8")).decode("ascii")


def _decode(encoded: str) -> Any:
    return json.loads(base64.b64decode(encoded.encode("ascii")).decode("utf-8"))


def _build_registry(raw: Mapping[str, Mapping[str, Any]]) -> dict[str, Exercise]:
    """Exercises keyed by label; each chapter's entries are numbered 1, 2, ... in the order given."""
    from .references import REFERENCES

    registry: dict[str, Exercise] = {}
    counts: dict[int, int] = {}
    for label, entry in raw.items():
        kind = check_choice(entry["kind"], f"kind of exercise {label}", KINDS)
        chapter = entry["chapter"]
        if isinstance(chapter, bool) or not isinstance(chapter, int) or chapter < 1:
            raise ValueError(f"exercise {label}: chapter must be a positive int, got {chapter!r}")
        code = entry.get("code", REFERENCES.get(label)) if kind == "code" else entry.get("code")
        if (kind == "code") != isinstance(code, CodeExercise):
            raise ValueError(f"exercise {label}: kind 'code' and a CodeExercise under 'code' go together")
        counts[chapter] = counts.get(chapter, 0) + 1
        registry[label] = Exercise(
            label=label, chapter=chapter, number=counts[chapter], kind=kind, form=tuple(entry["form"]),
            hint=tuple(entry["hint"]), encoded=entry.get("answer", ""), digits=int(entry.get("digits", 3)),
            symbols=dict(entry.get("symbols", {})), relations=dict(entry.get("relations", {})),
            options=tuple(entry.get("options", ())), code=code)
    return registry


_REGISTRY: dict[str, Exercise] = _build_registry(EXERCISES)


def exercise_ids(chapter: int | None = None) -> list[str]:
    """The exercise ids ``"<chapter>.<number>"`` (of one chapter if ``chapter`` is given), in book order."""
    if chapter is not None and (isinstance(chapter, bool) or not isinstance(chapter, int)):
        raise TypeError(f"chapter must be an int, got {type(chapter).__name__}")
    found = sorted(_REGISTRY.values(), key=lambda ex: (ex.chapter, ex.number))
    return [ex.exercise_id for ex in found if chapter is None or ex.chapter == chapter]


def _lookup(exercise_id: Any) -> Exercise:
    if isinstance(exercise_id, Real) and not isinstance(exercise_id, bool):
        raise TypeError(f"exercise_id must be a string such as '3.2', got the number {exercise_id!r} "
                        "(as a number, 3.10 and 3.1 would be the same)")
    if not isinstance(exercise_id, str):
        raise TypeError(f"exercise_id must be a string such as '3.2', got {type(exercise_id).__name__}")
    key = exercise_id.strip()
    by_id = {ex.exercise_id: ex for ex in _REGISTRY.values()}
    if key in _REGISTRY or key in by_id:
        return _REGISTRY.get(key) or by_id[key]
    typo = key.translate(str.maketrans("lIoO", "1100"))  # "1.l" for "1.1"
    near = list(dict.fromkeys([typo] * (typo in by_id) + difflib.get_close_matches(key, [*by_id, *_REGISTRY], 3, 0)))[:3]
    listed = ", ".join(repr(n) for n in near)
    raise ValueError(f"unknown exercise_id {exercise_id!r}; the nearest are {listed} · "
                     f"沒有編號為 {exercise_id!r} 的習題；最接近的是 {'、'.join(repr(n) for n in near)}")


def describe(exercise_id: str) -> str:
    """What form the answer to ``exercise_id`` takes (bilingual), without the answer."""
    ex = _lookup(exercise_id)
    en, zh = ex.form
    if ex.kind == "number":
        en, zh = f"{en}, to at least {ex.digits} significant digits", f"{zh}，至少 {ex.digits} 位有效數字"
    return f"{ex.exercise_id}: {en} · {zh}"


def hint(exercise_id: str) -> str:
    """The bilingual hint of ``exercise_id`` (the same one a wrong answer gets)."""
    ex = _lookup(exercise_id)
    return f"Hint: {ex.hint[0]}\n提示：{ex.hint[1]}"


def _check_code(ex: Exercise, answer: Any) -> tuple[bool, str]:
    """(correct, the failed case and why) for a code exercise: ``answer`` must be a function."""
    assert ex.code is not None
    if not callable(answer) or isinstance(answer, type):
        raise Malformed(f"the answer must be a function (pass it without calling it), got {type(answer).__name__}"
                        " · 答案應該是一個函式（直接傳入，不要呼叫它）")
    passed, why = run_cases(ex.code, answer)
    return passed == len(ex.code.cases), why


_CHECKERS: dict[str, Callable[[Exercise, Any], tuple[bool, str]]] = {
    "number": check_number, "expression": check_expression, "choice": check_option, "code": _check_code}


def check(exercise_id: str, answer: Any) -> CheckResult:
    """Check a student's answer to an exercise, without revealing the expected answer.

    Args:
        exercise_id: the exercise's label, e.g. ``"ex-03-t-dw"``, or its number ``"<chapter>.<k>"``, e.g.
            ``"3.2"`` (a string: as a number 3.10 would be 3.1).
        answer: the answer, in the form :func:`describe` gives: a number, an expression (sympy or a string), an
            option label, or a function (a code exercise: run on hidden cases in a child process, each under a
            time limit; see :mod:`scoresde.exercises.code`).

    Returns:
        A :class:`CheckResult` with status ``"correct"`` (for a number typed with few digits, saying to how many),
        ``"not yet"`` (with the hint) or ``"malformed"`` (with what form is expected). Its first line is the
        bilingual verdict; ``bool(result)`` is the verdict.

    Raises:
        TypeError: ``exercise_id`` is not a string.
        ValueError: no exercise has that id (the one-line message names the nearest ids).
    """
    ex = _lookup(exercise_id)
    head = f"Exercise {ex.exercise_id} · 習題 {ex.exercise_id}:"
    try:
        ok, remark = _CHECKERS[ex.kind](ex, answer)
    except Malformed as why:
        expected = describe(ex.label).split(": ", 1)[1]
        return CheckResult(ex.exercise_id, "malformed", f"{head} {_MALFORMED}: {why}\nExpected · 應為: {expected}")
    if ok:
        en, zh = remark.split(" · ") if remark else ("", "")
        verdict = f"{_CORRECT[0]} {en} · {_CORRECT[1]}{zh}" if remark else " · ".join(_CORRECT)
        return CheckResult(ex.exercise_id, "correct", f"{head} {verdict}")
    line = f"{head} {_NOT_YET}" + (f": {remark}" if remark else "")
    return CheckResult(ex.exercise_id, "not yet", f"{line}\n{hint(ex.label)}")
