r"""Read a typed answer such as ``"t**3/3"`` into a sympy expression without running any code.

:func:`parse_answer` parses the text with Python's :mod:`ast` (``mode="eval"``, which only builds a tree and
executes nothing) and walks the tree with an allow-list: numbers, the exercise's symbols, ``pi``, ``E``,
``+ - * / **`` and unary ``-``/``+``, calls of a few named functions (:data:`FUNCTIONS`), and at the top level
a tuple or list of such expressions. Every other construct (attribute access, subscripts, lambda,
comprehensions, strings, keyword arguments, ...) is refused. Sizes are bounded before sympy sees them
(:class:`Limits`): the length of the text, the number of nodes and the depth of the tree, the digits of an
integer literal, the size of an exponent and of an exact number that a power or product would build, so
``9**9**9`` or ``t**(10**10)`` is refused at once instead of being computed.

:func:`equal_at_points` compares two expressions by evaluating both at random points with 40 significant
digits (mpmath, through ``evalf``), the cheap and bounded test of identity used by computer-algebra
systems; it never calls ``simplify``.

A refusal is a :class:`AnswerError` whose message is bilingual and says which form is expected.
"""

from __future__ import annotations

import ast
import contextlib
import random
import signal
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["AnswerError", "Limits", "LIMITS", "FUNCTIONS", "parse_answer", "equal_at_points", "sample_points",
           "values_at", "time_limit"]


class AnswerError(ValueError):
    """A typed answer that cannot be read safely; the message is bilingual (English · 繁體中文)."""


@dataclass(frozen=True)
class Limits:
    """Bounds on an answer, checked before sympy builds anything.

    Attributes:
        max_chars: length of the answer text.
        max_nodes: nodes of its syntax tree.
        max_depth: nesting depth of its syntax tree.
        max_int_digits: digits of one integer literal.
        max_exponent: absolute value of a numeric exponent.
        max_bits: bits of an exact rational number built from literals (numerator or denominator).
    """

    max_chars: int = 500
    max_nodes: int = 200
    max_depth: int = 30
    max_int_digits: int = 30
    max_exponent: int = 1000
    max_bits: int = 4096


LIMITS = Limits()

#: the functions an answer may call, by the name it types (one argument each)
FUNCTIONS: tuple[str, ...] = ("sqrt", "exp", "log", "ln", "sin", "cos", "tan", "sinh", "cosh", "tanh",
                              "asin", "acos", "atan", "Abs", "abs", "erf")

_CONSTRUCTS: dict[type, tuple[str, str]] = {
    ast.Attribute: ("attribute access (a.b)", "屬性存取（a.b）"),
    ast.Subscript: ("indexing (a[b])", "索引（a[b]）"),
    ast.Lambda: ("a lambda", "lambda 函式"),
    ast.ListComp: ("a comprehension", "推導式"),
    ast.SetComp: ("a comprehension", "推導式"),
    ast.DictComp: ("a comprehension", "推導式"),
    ast.GeneratorExp: ("a generator expression", "產生器運算式"),
    ast.NamedExpr: ("an assignment (:=)", "指派（:=）"),
    ast.JoinedStr: ("an f-string", "f 字串"),
    ast.Starred: ("a starred expression", "星號展開"),
    ast.Compare: ("a comparison or an equation", "比較式或方程式"),
    ast.BoolOp: ("and/or", "and/or"),
    ast.IfExp: ("if/else", "if/else"),
    ast.Dict: ("a dict", "字典"),
    ast.Set: ("a set", "集合"),
    ast.Await: ("await", "await"),
    ast.Yield: ("yield", "yield"),
    ast.Slice: ("a slice", "切片"),
}


def _refuse(why_en: str, why_zh: str, names: str) -> AnswerError:
    return AnswerError(
        f"malformed: {why_en}; expected a form like 't**3/3' or 'exp(-t)/2' in {names} "
        f"(numbers, + - * / ** and {', '.join(FUNCTIONS[:6])}, ...) · "
        f"格式錯誤：{why_zh}；應為像 't**3/3' 或 'exp(-t)/2' 這樣以 {names} 表示的式子"
    )


class _Builder:
    """Walks an :mod:`ast` tree and builds the sympy expression, refusing anything not allowed."""

    def __init__(self, symbols: Mapping[str, Any], limits: Limits) -> None:
        import sympy as sp

        self.sp = sp
        self.symbols = dict(symbols)
        self.limits = limits
        self.names = ", ".join(self.symbols) or "no symbols"
        self.functions = {"sqrt": sp.sqrt, "exp": sp.exp, "log": sp.log, "ln": sp.log, "sin": sp.sin,
                          "cos": sp.cos, "tan": sp.tan, "sinh": sp.sinh, "cosh": sp.cosh, "tanh": sp.tanh,
                          "asin": sp.asin, "acos": sp.acos, "atan": sp.atan, "Abs": sp.Abs, "abs": sp.Abs,
                          "erf": sp.erf}
        self.constants = {"pi": sp.pi, "E": sp.E, "oo": sp.oo}

    def refuse(self, en: str, zh: str) -> AnswerError:
        return _refuse(en, zh, self.names)

    def build(self, node: ast.AST, depth: int = 0) -> Any:
        if depth > self.limits.max_depth:
            raise self.refuse(f"nested deeper than {self.limits.max_depth} levels",
                              f"巢狀超過 {self.limits.max_depth} 層")
        if isinstance(node, ast.Constant):
            return self.constant(node.value)
        if isinstance(node, ast.Name):
            return self.name(node.id)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            value = self.build(node.operand, depth + 1)
            return -value if isinstance(node.op, ast.USub) else value
        if isinstance(node, ast.BinOp):
            return self.binop(node, depth)
        if isinstance(node, ast.Call):
            return self.call(node, depth)
        if isinstance(node, (ast.Tuple, ast.List)):
            raise self.refuse("a tuple or list inside an expression", "式子裡面有序對或串列")
        en, zh = _CONSTRUCTS.get(type(node), (f"the construct {type(node).__name__}", f"語法 {type(node).__name__}"))
        raise self.refuse(f"{en} is not allowed", f"不允許{zh}")

    def constant(self, value: Any) -> Any:
        sp = self.sp
        if isinstance(value, bool) or value is None or value is Ellipsis:
            raise self.refuse(f"{value!r} is not a number", f"{value!r} 不是數")
        if isinstance(value, int):
            if len(str(abs(value))) > self.limits.max_int_digits:
                raise self.refuse(f"an integer with more than {self.limits.max_int_digits} digits",
                                  f"整數超過 {self.limits.max_int_digits} 位數")
            return sp.Integer(value)
        if isinstance(value, float):
            if value != value or value in (float("inf"), float("-inf")):
                raise self.refuse("a number too large to be finite", "數太大，不是有限的數")
            return sp.Rational(repr(value))  # 0.1 is exactly 1/10, as the student means
        if isinstance(value, (str, bytes)):
            raise self.refuse("a string literal is not allowed (write the expression without quotes)",
                              "不允許字串（式子不要加引號）")
        raise self.refuse(f"a {type(value).__name__} literal is not allowed", f"不允許 {type(value).__name__} 常數")

    def name(self, name: str) -> Any:
        if name in self.symbols:
            return self.symbols[name]
        if name in self.constants:
            return self.constants[name]
        if name.startswith("_"):
            raise self.refuse(f"the name {name!r} is not allowed", f"不允許名稱 {name!r}")
        if name in self.functions:
            raise self.refuse(f"{name} is a function; call it, e.g. {name}(t)", f"{name} 是函數，請寫成 {name}(t)")
        return self.sp.Symbol(name)  # unknown: the caller names it ("unknown symbol(s) ...")

    def binop(self, node: ast.BinOp, depth: int) -> Any:
        ops = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div", ast.Pow: "pow"}
        kind = ops.get(type(node.op))
        if kind is None:
            raise self.refuse(f"the operator {type(node.op).__name__} is not allowed",
                              f"不允許運算子 {type(node.op).__name__}")
        left = self.build(node.left, depth + 1)
        right = self.build(node.right, depth + 1)
        if kind == "pow":
            self.check_power(left, right)
            out = left ** right
        elif kind == "mul":
            self.check_bits(self.bits(left) + self.bits(right))
            out = left * right
        elif kind == "div":
            self.check_bits(self.bits(left) + self.bits(right))
            out = left / right
        else:
            out = left + right if kind == "add" else left - right
        self.check_bits(self.bits(out))
        return out

    def bits(self, value: Any) -> int:
        if getattr(value, "is_Rational", False):
            return max(int(value.p).bit_length(), int(value.q).bit_length())
        return 0

    def check_bits(self, bits: int) -> None:
        if bits > self.limits.max_bits:
            raise self.refuse(f"an exact number of more than {self.limits.max_bits} bits",
                              f"精確數超過 {self.limits.max_bits} 位元")

    def check_power(self, base: Any, exponent: Any) -> None:
        if not exponent.is_number:
            return
        value = values_at(exponent, [{}])[0]
        size = float(abs(value)) if value is not None else float("inf")
        if not size <= self.limits.max_exponent:
            raise self.refuse(f"an exponent larger than {self.limits.max_exponent} in absolute value",
                              f"指數的絕對值超過 {self.limits.max_exponent}")
        if base.is_Rational:
            self.check_bits(int(size * self.bits(base)) + 1)

    def call(self, node: ast.Call, depth: int) -> Any:
        if not isinstance(node.func, ast.Name):
            raise self.refuse("only named functions such as exp(t) may be called", "只能呼叫像 exp(t) 的具名函數")
        name = node.func.id
        if name in self.symbols:
            raise self.refuse(f"{name} is a symbol, not a function; write {name}*(...)",
                              f"{name} 是符號，不是函數；請寫成 {name}*(...)")
        if name not in self.functions:
            raise self.refuse(f"unknown function {name!r} (allowed: {', '.join(FUNCTIONS)})",
                              f"未知的函數 {name!r}（可用：{'、'.join(FUNCTIONS)}）")
        if node.keywords or len(node.args) != 1:
            raise self.refuse(f"{name} takes exactly one argument, without keywords",
                              f"{name} 只接受一個引數，不用關鍵字")
        return self.functions[name](self.build(node.args[0], depth + 1))


def parse_answer(text: str, symbols: Mapping[str, Any], limits: Limits = LIMITS) -> Any:
    """A sympy expression (or a tuple of them, for ``"(a, b)"``/``"[a, b]"``) read from ``text`` as data.

    ``^`` means power. Names other than the symbols, ``pi``, ``E``, ``oo`` and :data:`FUNCTIONS` become plain
    sympy symbols, so that the caller can say which symbol is unknown; names starting with ``_`` are refused.

    Raises:
        AnswerError: the text is too long, not an expression, or uses a construct or size not allowed.
    """
    names = ", ".join(symbols) or "no symbols"
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    if len(text) > limits.max_chars:
        raise _refuse(f"the answer is {len(text)} characters long, more than {limits.max_chars}",
                      f"答案有 {len(text)} 個字元，超過 {limits.max_chars}", names)
    try:
        tree = ast.parse(text.replace("^", "**").strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        reason = getattr(exc, "msg", None) or type(exc).__name__
        raise _refuse(f"cannot read {text!r} ({reason})", f"無法解讀 {text!r}", names) from None
    count = sum(1 for _ in ast.walk(tree))
    if count > limits.max_nodes:
        raise _refuse(f"the answer has {count} syntax nodes, more than {limits.max_nodes}",
                      f"答案有 {count} 個語法節點，超過 {limits.max_nodes}", names)
    builder = _Builder(symbols, limits)
    body = tree.body
    if isinstance(body, (ast.Tuple, ast.List)):
        return tuple(builder.build(item, 1) for item in body.elts)
    return builder.build(body)


def sample_points(symbols: Sequence[Any], n: int, seed: int) -> list[dict[Any, Any]]:
    """``n`` random points (40-digit sympy Floats) respecting each symbol's sign assumption."""
    import sympy as sp

    rng = random.Random(seed)
    points = []
    for _ in range(n):
        point = {}
        for s in symbols:
            low, high = (0.25, 2.5) if (s.is_positive or s.is_nonnegative) else (-2.0, 2.0)
            if s.is_negative:
                low, high = -2.5, -0.25
            point[s] = sp.Float(rng.uniform(low, high), 40)
        points.append(point)
    return points


_DPS = 40            # digits of the evaluation at random points
_MAX_LOG2 = 100_000  # |value| beyond 2**_MAX_LOG2 makes a point unusable (instead of exhausting memory)


class _Overflow(ArithmeticError):
    """A value at a point grew beyond ``2**_MAX_LOG2``."""


def _mp(value: Any) -> Any:
    import mpmath

    v = mpmath.mpmathify(value)
    if not mpmath.isfinite(v) or mpmath.mag(v) > _MAX_LOG2:
        raise _Overflow
    return v


def _mp_exp(z: Any) -> Any:
    import mpmath

    if mpmath.re(z) > _MAX_LOG2 * 0.69:
        raise _Overflow
    return mpmath.exp(z)


def _mp_pow(base: Any, exponent: Any) -> Any:
    import mpmath

    if base == 0:
        return mpmath.power(base, exponent)
    if mpmath.re(exponent * mpmath.log(base)) > _MAX_LOG2 * 0.69:
        raise _Overflow
    return mpmath.power(base, exponent)


def _evaluate(expr: Any, point: Mapping[Any, Any]) -> Any:
    """``expr`` at ``point`` as an mpmath number, node by node, refusing any intermediate beyond 2**100000."""
    import mpmath
    import sympy as sp

    if expr.is_Symbol and expr in point:
        return _mp(str(point[expr]))
    if expr.is_Rational:
        return _mp(mpmath.mpf(int(expr.p)) / int(expr.q))
    if expr.is_Float:
        return _mp(str(expr))
    if expr is sp.pi or expr is sp.E or expr is sp.I:
        return {sp.pi: mpmath.pi, sp.E: mpmath.e, sp.I: mpmath.j}[expr] * 1
    args = [_evaluate(a, point) for a in expr.args] if expr.args else []
    if expr.is_Add:
        return _mp(mpmath.fsum(args))
    if expr.is_Mul:
        return _mp(mpmath.fprod(args))
    if expr.is_Pow:
        return _mp(_mp_pow(*args))
    unary = {sp.exp: _mp_exp, sp.log: mpmath.log, sp.sin: mpmath.sin, sp.cos: mpmath.cos, sp.tan: mpmath.tan,
             sp.sinh: mpmath.sinh, sp.cosh: mpmath.cosh, sp.tanh: mpmath.tanh, sp.asin: mpmath.asin,
             sp.acos: mpmath.acos, sp.atan: mpmath.atan, sp.Abs: mpmath.fabs, sp.erf: mpmath.erf}
    if expr.func in unary and len(args) == 1:
        if expr.func in (sp.sinh, sp.cosh):
            _mp_exp(abs(mpmath.re(args[0])))
        return _mp(unary[expr.func](args[0]))
    value = sp.N(expr.xreplace(dict(point)), _DPS)  # any other sympy object a student passed in
    re, im = value.as_real_imag()
    return _mp(mpmath.mpc(str(sp.N(re, _DPS)), str(sp.N(im, _DPS))))


def values_at(expr: Any, points: Sequence[Mapping[Any, Any]]) -> list[Any]:
    """``expr`` evaluated at each point with 40 digits (an mpmath number), or ``None`` where it is undefined
    or grows beyond ``2**100000`` (so a tower like ``exp(exp(exp(exp(t))))`` costs nothing)."""
    import mpmath

    out = []
    with mpmath.workdps(_DPS):
        for point in points:
            try:
                out.append(_evaluate(expr, point))
            except (TypeError, ValueError, ZeroDivisionError, ArithmeticError, AttributeError):
                out.append(None)
    return out


def close(a: Any, b: Any, rtol: float) -> bool:
    import mpmath

    with mpmath.workdps(_DPS):
        return bool(abs(a - b) <= rtol * max(abs(a), abs(b), 1))


def equal_at_points(got: Any, expected: Any, points: Sequence[Mapping[Any, Any]],
                    rtol: float = 1e-25) -> bool | None:
    """``True`` if ``got`` and ``expected`` agree at every point where both evaluate, ``False`` if they differ
    at one, ``None`` if fewer than half of the points could be evaluated (undecided)."""
    pairs = [(g, e) for g, e in zip(values_at(got, points), values_at(expected, points))
             if g is not None and e is not None]
    if any(not close(g, e, rtol) for g, e in pairs):
        return False
    return True if 2 * len(pairs) >= len(points) and pairs else None


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise ``TimeoutError`` in the block if it runs longer than ``seconds`` (wall clock).

    Uses ``SIGALRM`` (``signal.setitimer``), so it works on Unix in the main thread, which is where a
    notebook kernel runs the student's cell; elsewhere (Windows, another thread) the block runs unbounded,
    and only the size limits of :class:`Limits` bound it. Python code (sympy, a student's function) is
    interrupted between bytecodes; a long call inside C (one huge torch op) ends before the error is raised.
    """
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return

    def _expired(signum: int, frame: Any) -> None:
        raise TimeoutError(f"took longer than {seconds:g} s")

    outer, _ = signal.getitimer(signal.ITIMER_REAL)  # an enclosing limit keeps its deadline
    start = time.monotonic()
    previous = signal.signal(signal.SIGALRM, _expired)
    signal.setitimer(signal.ITIMER_REAL, min(seconds, outer) if outer else seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer:
            signal.setitimer(signal.ITIMER_REAL, max(outer - (time.monotonic() - start), 1e-3))
