r"""Code exercises: ``check("2.7", my_function)`` runs the student's function on hidden cases in a child process
and compares it with a reference, saying which case failed and why, never what the reference returns.

A :class:`CodeExercise` holds the reference function and its :class:`CodeCase`\ s. Each case builds its arguments
from its own seed, twice: the parent builds them to call the reference, the child to call the student's function
(so an in-place edit by one cannot change the other's input). The comparison checks the type (tensor or number),
the shape, finiteness, and the values within ``atol + rtol |reference|``; the verdict of a failed case names it in
both languages with the reason: an exception, a crash, a time-out, a wrong type or shape, NaN, values off by a
constant factor, the largest error, or (``one_pass``) a function evaluated more often than the exercise allows.

**Isolation.** Where the platform can ``fork`` (Linux, macOS), the student's function runs only in a forked child
(``multiprocessing``'s ``"fork"`` context), which the parent kills (``SIGKILL``) once a case exceeds its time
limit: a function that loops, sleeps, swallows every exception or ignores ``SIGALRM`` still ends in a verdict,
and one that calls ``os._exit`` or ``sys.exit`` ends only the child. The child sends back, per case, a JSON
header and the result as raw float64 bytes, so the parent unpickles nothing and never runs the student's code;
what the function changes (autograd mode, default dtype, random state, signal handlers) changes in the child
only. Where there is no ``fork`` (Windows), or where autograd cannot run in a forked child (PyTorch refuses once the
parent, on a machine with a GPU, has run a backward pass: "Autograd and Fork"; the child tests this first), the
function runs in the student's own process under
:func:`scoresde.exercises.safe_expr.time_limit` (``SIGALRM``: none on Windows) with autograd mode, default dtype and
the CPU random state restored afterwards: that fallback cannot stop a function that never returns, nor survive
``os._exit``, nor undo other global changes.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from numbers import Real
from typing import Any

import numpy as np
import torch

from .safe_expr import time_limit

__all__ = ["CodeCase", "CodeExercise", "run_cases"]

Why = tuple[str, str]  # (English, 繁體中文)
_MAX_VALUES = 10_000_000  # values a result may hold (80 MB as float64); the hidden cases' are far fewer


@dataclass(frozen=True)
class CodeCase:
    """One hidden case: ``make(generator)`` returns the positional arguments; ``what`` describes it (EN, 中文)."""

    what: tuple[str, str]
    make: Callable[[torch.Generator], tuple[Any, ...]]
    seed: int = 0


@dataclass(frozen=True)
class CodeExercise:
    """A reference function, its hidden cases, tolerances and the time limit of one case (seconds).

    ``one_pass = (i, j)``: argument ``i`` is a function of a batch (a score) that the student's function may evaluate
    on the rows of argument ``j`` once in all (one forward pass, not ``M`` of them, nor one on a repeated batch).
    """

    reference: Callable[..., Any]
    cases: Sequence[CodeCase]
    rtol: float = 1e-5
    atol: float = 1e-6
    seconds: float = 5.0
    one_pass: tuple[int, int] | None = None


class _Counted:
    """A function of a batch that counts the rows it is evaluated on."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn, self.calls, self.rows = fn, 0, 0

    def __call__(self, x: Any, *rest: Any) -> Any:
        self.calls, self.rows = self.calls + 1, self.rows + int(x.shape[0])
        return self.fn(x, *rest)


def _summary(got: Any) -> tuple[dict[str, Any], bytes]:
    """The student's result as (header, float64 bytes): ``{"shape": [...]}`` or ``{"why": [en, zh]}``."""
    if isinstance(got, torch.Tensor):
        if got.layout != torch.strided:
            return {"why": [f"returned a {got.layout} tensor, expected a dense one",
                            f"回傳了 {got.layout} 張量，應該回傳一般（稠密）張量"]}, b""
        if got.is_complex() or not (got.is_floating_point() or got.dtype in (torch.int32, torch.int64)):
            return {"why": [f"returned dtype {got.dtype}, expected real numbers", f"回傳的 dtype 是 {got.dtype}，應為實數"]}, b""
        array = got.detach().to("cpu", torch.float64).numpy()
    elif isinstance(got, Real) and not isinstance(got, bool):
        try:
            array = np.array(float(got))
        except OverflowError:
            return {"why": ["returned a number too large for a float", "回傳的數太大，超出浮點數的範圍"]}, b""
    elif isinstance(got, np.ndarray) and got.dtype.kind in "fiu":
        array = got.astype(np.float64)
    else:
        return {"why": [f"returned a {type(got).__name__}, expected a tensor or a number",
                        f"回傳了 {type(got).__name__}，應該回傳張量或數"]}, b""
    if array.size > _MAX_VALUES:  # no hidden case expects this many: do not send them through the pipe
        return {"why": [f"returned {array.size} values, far more than expected", f"回傳了 {array.size} 個值，遠多於預期"]}, b""
    return {"shape": list(array.shape)}, np.ascontiguousarray(array, dtype=np.float64).tobytes()


def _raised(err: BaseException) -> dict[str, Any]:
    try:
        first = str(err).splitlines()[0][:200] if str(err) else ""
    except Exception:  # an exception whose str() fails: its type is enough
        first = ""
    name = type(err).__name__
    return {"why": [f"raised {name}: {first}".rstrip(": ") if first else f"raised {name}", f"拋出 {name}"]}


def _run(code: CodeExercise, case: CodeCase, function: Callable[..., Any]) -> tuple[dict[str, Any], bytes]:
    """Call the student's function on one case: (header, bytes) as :func:`_summary`, or why it failed."""
    args = list(case.make(torch.Generator().manual_seed(case.seed)))
    counted = None
    if code.one_pass is not None:
        counted = args[code.one_pass[0]] = _Counted(args[code.one_pass[0]])
    try:
        header, data = _summary(function(*args))
    except BaseException as err:  # noqa: BLE001  (SystemExit, KeyboardInterrupt: the student's, reported)
        return _raised(err), b""
    rows = int(args[code.one_pass[1]].shape[0]) if code.one_pass is not None else 0
    if counted is not None and counted.rows > rows:
        return {"why": [f"evaluated the score on {counted.rows} rows in {counted.calls} call(s); evaluate it once, "
                        f"on the {rows} rows of x",
                        f"score 共被呼叫 {counted.calls} 次、計算了 {counted.rows} 列；應該只在 x 的 {rows} 列上計算一次"]}, b""
    return header, data


def _autograd_works() -> bool:
    """Whether autograd runs here: not in a child forked after the parent started autograd's device threads (on a
    machine with a GPU, its first backward pass does), where PyTorch refuses ("Autograd and Fork")."""
    x = torch.ones((), requires_grad=True)
    try:
        torch.autograd.grad(2 * x, x)
    except RuntimeError:
        return False
    return True


def _child(code: CodeExercise, function: Callable[..., Any], conn: Any) -> None:
    torch.set_num_threads(1)  # as DataLoader workers do: a forked OpenMP pool is not safe to reuse
    conn.send_bytes(json.dumps({"ready": _autograd_works()}).encode("utf-8"))
    for case in code.cases:
        header, data = _run(code, case, function)
        conn.send_bytes(json.dumps(header).encode("utf-8"))
        conn.send_bytes(data)


def _fork() -> Any:
    """``multiprocessing``'s fork context, or ``None`` where the platform has none."""
    return multiprocessing.get_context("fork") if "fork" in multiprocessing.get_all_start_methods() else None


def _in_process(code: CodeExercise, function: Callable[..., Any]) -> Callable[[], tuple[dict[str, Any], bytes]]:
    """The fallback: the next case run here, under SIGALRM, with autograd mode, default dtype and RNG restored."""
    cases = iter(code.cases)

    def run() -> tuple[dict[str, Any], bytes]:
        grad, dtype = torch.is_grad_enabled(), torch.get_default_dtype()
        try:
            with torch.random.fork_rng(devices=[]), time_limit(code.seconds):
                return _run(code, next(cases), function)
        except TimeoutError:
            return {"timeout": True}, b""
        finally:
            torch.set_grad_enabled(grad)
            torch.set_default_dtype(dtype)

    return run


@contextlib.contextmanager
def _outcomes(code: CodeExercise, function: Callable[..., Any]) -> Iterator[Callable[[], tuple[dict[str, Any], bytes]]]:
    """A function that returns the next case's (header, bytes): from a killable child, or in-process where there
    is no fork or autograd cannot run in a forked child."""
    ctx = _fork()
    if ctx is None:
        yield _in_process(code, function)
        return
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_child, args=(code, function, send), daemon=True)
    child.start()
    send.close()
    try:
        ready = receive.poll(60) and json.loads(receive.recv_bytes().decode("utf-8")) == {"ready": True}
    except (EOFError, OSError, ValueError):
        ready = False
    if not ready:
        child.kill()
        child.join()
        receive.close()
        yield _in_process(code, function)
        return

    def from_child() -> tuple[dict[str, Any], bytes]:
        if not receive.poll(code.seconds):
            return {"timeout": True}, b""
        try:
            header = json.loads(receive.recv_bytes().decode("utf-8"))
            return header, receive.recv_bytes()
        except (EOFError, OSError, ValueError):
            child.join(1.0)
            return {"crash": child.exitcode}, b""

    try:
        yield from_child
    finally:
        child.kill()
        child.join()
        receive.close()


def _compare(got: torch.Tensor, want: torch.Tensor, code: CodeExercise) -> Why | None:
    """Why ``got`` is not ``want`` (EN, 中文), or ``None``; no value of ``want`` is ever named."""
    if tuple(got.shape) != tuple(want.shape):
        return (f"wrong shape: got {tuple(got.shape)}, expected {tuple(want.shape)}",
                f"形狀不對：得到 {tuple(got.shape)}，應為 {tuple(want.shape)}")
    if not bool(torch.isfinite(got).all()):
        return "returned NaN or infinite values", "回傳了 NaN 或無窮大的值"
    err = (got - want).abs()
    if bool((err <= code.atol + code.rtol * want.abs()).all()):
        return None
    nonzero = want.abs() > code.atol
    if bool(nonzero.any()):
        ratio = got[nonzero] / want[nonzero]
        if bool(((ratio - ratio[0]).abs() <= 1e-6 * ratio[0].abs()).all()) and bool(
                (got[~nonzero].abs() <= code.atol).all()):
            return "values off by a constant factor", "數值差了一個常數倍"
    rel = float((err / (want.abs() + code.atol)).max())
    return f"wrong values (largest relative error {rel:.2g})", f"數值不對（最大相對誤差 {rel:.2g}）"


def _why(header: dict[str, Any], data: bytes, want: torch.Tensor, code: CodeExercise) -> Why | None:
    if "timeout" in header:
        return f"took longer than {code.seconds:g} s", f"執行超過 {code.seconds:g} 秒"
    if "crash" in header:
        return (f"the process running it ended (exit code {header['crash']})",
                f"執行它的行程結束了（結束碼 {header['crash']}）")
    if "why" in header:
        return str(header["why"][0]), str(header["why"][1])
    got = torch.from_numpy(np.frombuffer(data, dtype=np.float64).copy()).reshape(header["shape"])
    return _compare(got, want, code)


def run_cases(code: CodeExercise, function: Callable[..., Any]) -> tuple[int, str]:
    """Run ``function`` on every hidden case (module docstring); return (number of cases passed before the first
    failure, the one-line bilingual reason of that failure or ``""``)."""
    n = len(code.cases)
    with _outcomes(code, function) as next_outcome:
        for k, case in enumerate(code.cases, start=1):
            want = torch.as_tensor(code.reference(*case.make(torch.Generator().manual_seed(case.seed))))
            why = _why(*next_outcome(), want.detach().to("cpu", torch.float64), code)
            if why is not None:
                return k - 1, (f"Case {k} of {n} ({case.what[0]}): {why[0]} · "
                               f"第 {k} 個測試（共 {n} 個；{case.what[1]}）：{why[1]}")
    return n, ""
