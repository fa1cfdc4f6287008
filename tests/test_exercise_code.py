"""Code exercises (issue 20, checker side): check(id, my_function) runs the student's function on hidden cases,
says which case failed and why, never the reference's values, each case under a time limit."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import torch

from scoresde import exercises
from scoresde.exercises import code as exercise_code
from scoresde.exercises.code import CodeCase, CodeExercise


def ito_sum(W: torch.Tensor) -> torch.Tensor:
    """Reference: the left-point Itô sum sum_k W_k (W_{k+1} - W_k) of each path (rows of W)."""
    return (W[:, :-1] * torch.diff(W, dim=1)).sum(dim=1)


def _paths(batch: int, steps: int, dt: float = 0.01) -> Callable[[torch.Generator], tuple[torch.Tensor]]:
    def make(g: torch.Generator) -> tuple[torch.Tensor]:
        dW = torch.randn(batch, steps, generator=g, dtype=torch.float64) * dt**0.5
        return (torch.cat([torch.zeros(batch, 1, dtype=torch.float64), dW.cumsum(1)], dim=1),)
    return make


CODE = CodeExercise(
    reference=ito_sum,
    cases=(CodeCase(("4 paths of 100 steps", "4 條 100 步的路徑"), _paths(4, 100), seed=1),
           CodeCase(("a single path", "只有一條路徑"), _paths(1, 50), seed=2),
           CodeCase(("one step", "只有一步"), _paths(3, 1), seed=3),
           CodeCase(("1000 paths of 1000 steps", "1000 條 1000 步的路徑"), _paths(1000, 1000), seed=4)),
    seconds=1.0,
)
SLACK = 4.0  # seconds beyond the time limit for the fork, the kill and a loaded CI machine (a hang would be 60 s)
REGISTRY = exercises._build_registry({
    "ex-09-ito-sum": {"chapter": 9, "kind": "code", "code": CODE,
            "form": ("a function ito_sum(W) -> tensor (batch,)", "函式 ito_sum(W)，回傳形狀 (batch,) 的張量"),
            "hint": ("Evaluate the integrand at the left end of each step.", "被積函數取每一步的左端點。")},
})


@pytest.fixture(autouse=True)
def registry(monkeypatch):
    monkeypatch.setattr(exercises, "_REGISTRY", {**exercises._REGISTRY, **REGISTRY})


def test_a_correct_function_passes():
    def mine(W):
        total = torch.zeros(W.shape[0], dtype=W.dtype)
        for k in range(W.shape[1] - 1):
            total += W[:, k] * (W[:, k + 1] - W[:, k])
        return total

    result = exercises.check("9.1", mine)
    assert result.status == "correct", str(result)
    assert exercises.check("ex-09-ito-sum", ito_sum).correct


def off_by_one(W):  # the right end point: the Stratonovich-like sum drifts by the quadratic variation
    return (W[:, 1:] * torch.diff(W, dim=1)).sum(dim=1)


def wrong_shape(W):
    return (W[:, :-1] * torch.diff(W, dim=1)).sum(dim=1, keepdim=True)


def wrong_constant(W):
    return 0.5 * (W[:, :-1] * torch.diff(W, dim=1)).sum(dim=1)


@pytest.mark.parametrize("function, says", [
    (off_by_one, "wrong values (largest relative error"),
    (wrong_shape, "wrong shape: got (4, 1), expected (4,)"),
    (wrong_constant, "values off by a constant factor"),
    (lambda W: W.sum() / 0 * W[:, 0], "returned NaN or infinite values"),
    (lambda W: W[:, 0].tolist(), "returned a list"),
    (lambda W: W.undefined_method(), "raised AttributeError"),
], ids=["off-by-one", "wrong shape", "wrong constant", "nan", "list", "raises"])
def test_typical_wrong_functions_are_caught_with_a_useful_message(function, says):
    result = exercises.check("9.1", function)
    text = str(result)
    assert result.status == "not yet" and says in text, text
    assert "Case 1 of 4 (4 paths of 100 steps)" in text and "第 1 個測試" in text
    assert "Hint: Evaluate the integrand" in text and "提示：被積函數" in text  # the hint, both languages


def test_the_failing_case_is_named_and_the_reference_never_shown():
    def breaks_on_one_path(W):
        if W.shape[0] == 1:
            raise ValueError("one path")
        return ito_sum(W)

    text = str(exercises.check("9.1", breaks_on_one_path))
    assert "Case 2 of 4 (a single path)" in text and "raised ValueError: one path" in text
    want = ito_sum(_paths(4, 100)(torch.Generator().manual_seed(1))[0])
    for value in want.tolist():
        assert f"{value:.3g}" not in text and f"{value:.4f}" not in text


def test_each_case_runs_under_a_time_limit():
    def slow(W):
        while True:
            pass

    start = time.perf_counter()
    text = str(exercises.check("9.1", slow))
    assert "took longer than 1 s" in text and time.perf_counter() - start < CODE.seconds + SLACK


def test_the_students_in_place_edit_does_not_change_the_reference():
    def vandal(W):
        out = ito_sum(W)
        W.zero_()
        return out

    assert exercises.check("9.1", vandal).correct


@pytest.mark.parametrize("answer", [3.0, "ito_sum", None, torch.zeros(3), ito_sum(torch.zeros(2, 3)), int])
def test_malformed_code_answers(answer):
    result = exercises.check("9.1", answer)
    assert result.status == "malformed" and "must be a function" in str(result) and "函式" in str(result)


def test_registry_requires_code_with_kind_code():
    with pytest.raises(ValueError, match="go together"):
        exercises._build_registry({"l": {"chapter": 9, "kind": "code", "form": ("", ""), "hint": ("", "")}})
    with pytest.raises(ValueError, match="go together"):
        exercises._build_registry({"l": {"chapter": 9, "kind": "number", "answer": exercises._encode(1),
                                           "code": CODE, "form": ("", ""), "hint": ("", "")}})


def test_compare_without_the_factor_rule_reports_only_an_error(monkeypatch):
    """Mutation: with a comparison that ignores values, the wrong constant would pass; the real one catches it."""
    monkeypatch.setattr(exercise_code, "_compare", lambda got, want, code: None)
    assert exercises.check("9.1", wrong_constant).correct
    monkeypatch.undo()
    monkeypatch.setattr(exercises, "_REGISTRY", {**exercises._REGISTRY, **REGISTRY})
    assert not exercises.check("9.1", wrong_constant).correct


# ---- hostile functions (issue 30): each ends in a one-line verdict within the time limit, the kernel untouched ----


def _slow(W):
    time.sleep(60)
    return ito_sum(W)


def swallows_the_timeout(W):  # an ordinary retry loop: `except Exception` catches the checker's TimeoutError
    while True:
        try:
            return _slow(W)
        except Exception:
            pass


def disarms_the_timer(W):
    import signal
    signal.setitimer(signal.ITIMER_REAL, 0)
    return _slow(W)


def ignores_sigalrm(W):
    import signal
    signal.signal(signal.SIGALRM, signal.SIG_IGN)
    return _slow(W)


def exits(W):
    raise SystemExit(3)


def crashes(W):
    import os
    os._exit(3)


def turns_autograd_off(W):
    torch.set_grad_enabled(False)
    torch.set_default_dtype(torch.float16)
    torch.manual_seed(123)
    return 2 * ito_sum(W)


def overflows(W):
    return 10**400


def sparse(W):
    return ito_sum(W).to_sparse()


def huge(W):
    return torch.zeros(20_000_000, dtype=torch.float64)


def unpicklable(W):
    return (x for x in ito_sum(W))  # a generator


class Hostile(Exception):
    def __str__(self):
        raise RuntimeError("no message for you")


def unprintable_error(W):
    raise Hostile


HOSTILE = [  # (function, what the one-line verdict says in English, in Chinese)
    (swallows_the_timeout, "took longer than 1 s", "執行超過 1 秒"),
    (disarms_the_timer, "took longer than 1 s", "執行超過 1 秒"),
    (ignores_sigalrm, "took longer than 1 s", "執行超過 1 秒"),
    (_slow, "took longer than 1 s", "執行超過 1 秒"),
    (exits, "raised SystemExit: 3", "拋出 SystemExit"),
    (crashes, "the process running it ended (exit code 3)", "執行它的行程結束了（結束碼 3）"),
    (turns_autograd_off, "values off by a constant factor", "數值差了一個常數倍"),
    (overflows, "returned a number too large for a float", "回傳的數太大"),
    (sparse, "returned a torch.sparse_coo tensor, expected a dense one", "稠密"),
    (unpicklable, "returned a generator, expected a tensor or a number", "回傳了 generator"),
    (unprintable_error, "raised Hostile", "拋出 Hostile"),
    (huge, "returned 20000000 values, far more than expected", "遠多於預期"),
]


@pytest.mark.parametrize("function, says, says_zh", HOSTILE, ids=[f.__name__ for f, _, _ in HOSTILE])
def test_a_hostile_function_ends_in_a_one_line_verdict_and_leaves_the_kernel_alone(function, says, says_zh):
    import signal

    handler, rng = signal.getsignal(signal.SIGALRM), torch.random.get_rng_state()
    start = time.perf_counter()
    result = exercises.check("9.1", function)
    elapsed = time.perf_counter() - start
    first = str(result).splitlines()[0]
    assert result.status == "not yet" and says in first and says_zh in first and "Case 1 of 4" in first and "第 1 個測試" in first, first
    assert elapsed < CODE.seconds + SLACK, elapsed
    assert torch.is_grad_enabled() and torch.get_default_dtype() == torch.float32
    assert signal.getsignal(signal.SIGALRM) == handler and torch.equal(torch.random.get_rng_state(), rng)
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_without_fork_the_documented_fallback_runs_in_process_and_restores_the_state(monkeypatch):
    """No fork (Windows): in-process under SIGALRM, autograd mode, default dtype and RNG restored; what it
    cannot guard (a swallowed TimeoutError, os._exit) is documented, not tested."""
    monkeypatch.setattr(exercise_code, "_fork", lambda: None)
    rng = torch.random.get_rng_state()
    assert exercises.check("9.1", ito_sum).correct
    assert "values off by a constant factor" in str(exercises.check("9.1", turns_autograd_off))
    assert torch.is_grad_enabled() and torch.get_default_dtype() == torch.float32
    assert torch.equal(torch.random.get_rng_state(), rng)
    assert "raised SystemExit" in str(exercises.check("9.1", exits))
    start = time.perf_counter()
    assert "took longer than 1 s" in str(exercises.check("9.1", _slow))
    assert time.perf_counter() - start < CODE.seconds + SLACK


def test_the_parent_never_runs_the_students_function(monkeypatch):
    """Mutation: with the child process replaced by an in-process run, a function that records its process id
    shows it ran in the parent; with the real checker it never does."""
    import os

    seen = []

    def records(W):
        seen.append(os.getpid())  # in a forked child this list is the child's copy
        return ito_sum(W)

    assert exercises.check("9.1", records).correct and seen == []
    monkeypatch.setattr(exercise_code, "_fork", lambda: None)
    assert exercises.check("9.1", records).correct and seen and set(seen) == {os.getpid()}


def test_where_autograd_cannot_run_in_a_forked_child_the_fallback_takes_over(monkeypatch):
    """On a GPU machine, after the kernel's first backward pass, PyTorch refuses autograd in a forked child: the child
    says so before any case and the checker runs the function in-process. Simulated by the child's probe failing."""
    import os

    monkeypatch.setattr(exercise_code, "_autograd_works", lambda: False)
    seen = []

    def records(W):
        seen.append(os.getpid())
        return ito_sum(W)

    assert exercises.check("9.1", records).correct and set(seen) == {os.getpid()}
    assert "values off by a constant factor" in str(exercises.check("9.1", wrong_constant))


def test_the_child_s_autograd_probe_sees_pytorch_s_refusal(monkeypatch):
    assert exercise_code._autograd_works()

    def refuses(*args, **kwargs):
        raise RuntimeError("Unable to handle autograd's threading in combination with fork-based multiprocessing.")

    monkeypatch.setattr(torch.autograd, "grad", refuses)
    assert not exercise_code._autograd_works()
