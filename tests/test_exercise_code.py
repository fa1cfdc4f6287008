"""Code exercises (issue 20, checker side): check(id, my_function) runs the student's function on hidden cases,
says which case failed and why, never the reference's values, each case under a time limit."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import torch

from scoresde import exercise_code, exercises
from scoresde.exercise_code import CodeCase, CodeExercise


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
REGISTRY = exercises._build_registry({
    "9.4": {"label": "ex-09-ito-sum", "kind": "code", "code": CODE,
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

    result = exercises.check("9.4", mine)
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
    result = exercises.check("9.4", function)
    text = str(result)
    assert result.status == "not yet" and says in text, text
    assert "Case 1 of 4 (4 paths of 100 steps)" in text and "第 1 個測試" in text
    assert "Hint: Evaluate the integrand" in text and "提示：被積函數" in text  # the hint, both languages


def test_the_failing_case_is_named_and_the_reference_never_shown():
    def breaks_on_one_path(W):
        if W.shape[0] == 1:
            raise ValueError("one path")
        return ito_sum(W)

    text = str(exercises.check("9.4", breaks_on_one_path))
    assert "Case 2 of 4 (a single path)" in text and "raised ValueError: one path" in text
    want = ito_sum(_paths(4, 100)(torch.Generator().manual_seed(1))[0])
    for value in want.tolist():
        assert f"{value:.3g}" not in text and f"{value:.4f}" not in text


def test_each_case_runs_under_a_time_limit():
    def slow(W):
        while True:
            pass

    start = time.perf_counter()
    text = str(exercises.check("9.4", slow))
    assert "took longer than 1 s" in text and time.perf_counter() - start < 3.0


def test_the_students_in_place_edit_does_not_change_the_reference():
    def vandal(W):
        out = ito_sum(W)
        W.zero_()
        return out

    assert exercises.check("9.4", vandal).correct


@pytest.mark.parametrize("answer", [3.0, "ito_sum", None, torch.zeros(3), ito_sum(torch.zeros(2, 3)), int])
def test_malformed_code_answers(answer):
    result = exercises.check("9.4", answer)
    assert result.status == "malformed" and "must be a function" in str(result) and "函式" in str(result)


def test_registry_requires_code_with_kind_code():
    with pytest.raises(ValueError, match="go together"):
        exercises._build_registry({"9.5": {"label": "l", "kind": "code", "form": ("", ""), "hint": ("", "")}})
    with pytest.raises(ValueError, match="go together"):
        exercises._build_registry({"9.5": {"label": "l", "kind": "number", "answer": exercises._encode(1),
                                           "code": CODE, "form": ("", ""), "hint": ("", "")}})


def test_compare_without_the_factor_rule_reports_only_an_error(monkeypatch):
    """Mutation: with a comparison that ignores values, the wrong constant would pass; the real one catches it."""
    monkeypatch.setattr(exercise_code, "_compare", lambda got, want, code: None)
    assert exercises.check("9.4", wrong_constant).correct
    monkeypatch.undo()
    monkeypatch.setattr(exercises, "_REGISTRY", {**exercises._REGISTRY, **REGISTRY})
    assert not exercises.check("9.4", wrong_constant).correct
