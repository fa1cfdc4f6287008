"""The answers that :mod:`scoresde.exercises` checks against (data only; no code).

One entry per exercise that has a checkable answer, keyed ``"<chapter>.<number>"`` (the ``number``-th
``{exercise}`` of ``notebooks/<chapter, two digits>_*.ipynb``):

* ``label``: the exercise's label in the notebook (``tests/test_exercises.py`` checks it is there, in place);
* ``kind``: ``number`` | ``vector`` | ``expression`` (one, or a list of them) | ``choice``;
* ``form``: (English, 繁體中文) what the student passes — shown with a malformed answer, never the answer;
* ``hint``: (English, 繁體中文) shown with a wrong answer;
* ``answer``: the expected answer, JSON then base64, so that opening this file does not spoil an exercise
  at a glance (a number; a list of numbers; a sympy string in ``symbols``, or a list of them; an
  option label). Exercises whose statement already gives the answer ("show that …") are not registered.
  Make one with ``scoresde.exercises._encode(value)``;
* ``rtol``/``atol`` (numbers, vectors), ``symbols`` (name -> sympy assumptions), ``options`` (choices).

``tests/test_exercises.py`` re-derives every expected answer independently (sympy or closed form) and checks
that :func:`scoresde.exercises.check` accepts it, so a typo here fails the tests.
"""

from __future__ import annotations

from typing import Any

EXERCISES: dict[str, dict[str, Any]] = {
    # ---- chapter 1: from score matching to sliced score matching · 從分數匹配到切片分數匹配 ----
    "1.3": {
        "label": "ex-01-ism-gaussian-model",
        "kind": "expression",
        "form": ("the minimiser (a, b) of J_ISM(a, b), a pair [a, b] of expressions in mu and s",
                 "J_ISM(a, b) 的最小值點 (a, b)，以 mu 與 s 表示的一對式子 [a, b]"),
        "hint": ("With S(x) = -a(x - b) the derivative is -a; write E[(x - b)^2] through the mean and variance of "
                 "the data, then set both partial derivatives of J_ISM to zero.",
                 "S(x) = -a(x - b) 的導數是 -a；用資料的平均與變異數寫出 E[(x - b)^2]，再令 J_ISM 的兩個偏導數為零。"),
        "answer": "WyIxL3MqKjIiLCAibXUiXQ==",
        "symbols": {"mu": {"real": True}, "s": {"positive": True}},
    },
    # ---- chapter 3: Brownian motion and the Itô integral · 布朗運動與 Itô 積分 ----
    "3.1": {
        "label": "ex-03-sum-increments",
        "kind": "number",
        "form": ("Var(X) for X = W_1 + W_2 + W_3, as an exact number (not a Monte Carlo estimate)",
                 "X = W_1 + W_2 + W_3 的 Var(X)，一個精確的數（不是蒙地卡羅估計值）"),
        "hint": ("Regroup X so that each independent increment appears once, with a coefficient; the variance "
                 "of a sum of independent terms is the sum of their variances, and Var(c ΔW) = c² Var(ΔW).",
                 "把 X 重新整理，讓每個獨立增量只出現一次並帶一個係數；獨立項之和的變異數等於各項變異數之和，"
                 "且 Var(c ΔW) = c² Var(ΔW)。"),
        "answer": "MTQ=",
        "rtol": 1e-6,
    },
    "3.2": {
        "label": "ex-03-t-dw",
        "kind": "expression",
        "form": ("part (b): the variance of ∫_0^t s dW_s, an expression in t (a sympy expression or a string "
                 "such as 'sqrt(t)/2')",
                 "(b) 小題：∫_0^t s dW_s 的變異數，以 t 表示的式子（sympy 式子或像 'sqrt(t)/2' 這樣的字串）"),
        "hint": ("The integrand s is deterministic, so the integral is Gaussian with mean 0; the Itô isometry "
                 "turns its variance into an ordinary integral of the integrand squared.",
                 "被積函數 s 是確定的，所以這個積分是平均為 0 的高斯變數；Itô 等距性把它的變異數變成被積函數平方的"
                 "普通積分。"),
        "answer": "InQqKjMvMyI=",
        "symbols": {"t": {"positive": True}},
    },
    "3.3": {
        "label": "ex-03-exp-martingale",
        "kind": "expression",
        "form": ("E[M_t²] for M_t = exp(σ W_t − σ² t / 2), an expression in sigma and t",
                 "M_t = exp(σ W_t − σ² t / 2) 的 E[M_t²]，以 sigma 與 t 表示的式子"),
        "hint": ("Write m(t) = E[M_t²]. With dM_t = σ M_t dW_t, the Itô isometry gives m(t) = 1 + σ² ∫_0^t m(s) ds: "
                 "a linear differential equation with m(0) = 1.",
                 "令 m(t) = E[M_t²]。由 dM_t = σ M_t dW_t，Itô 等距性給出 m(t) = 1 + σ² ∫_0^t m(s) ds：這是一個"
                 " m(0) = 1 的線性微分方程。"),
        "answer": "ImV4cChzaWdtYSoqMip0KSI=",
        "symbols": {"sigma": {"positive": True}, "t": {"positive": True}},
    },
    # ---- chapter 4: Euler–Maruyama and three example SDEs · Euler–Maruyama 方法與三個 SDE 範例 ----
    "4.1": {
        "label": "ex-04-ou-stationary",
        "kind": "expression",
        "form": ("part (b): the exact relative bias v_h / (σ²/(2β)) − 1 of the Euler–Maruyama stationary variance, "
                 "an expression in beta and h (not its first-order approximation)",
                 "(b) 小題：Euler–Maruyama 平穩分佈變異數的精確相對偏差 v_h / (σ²/(2β)) − 1，以 beta 與 h 表示的式子"
                 "（不是一階近似）"),
        "hint": ("Divide the v_h you found by the exact stationary variance σ²/(2β) and simplify; σ cancels.",
                 "把你求得的 v_h 除以平穩分佈的精確變異數 σ²/(2β) 再化簡；σ 會消去。"),
        "answer": "ImJldGEqaC8oMiAtIGJldGEqaCki",
        "symbols": {"beta": {"positive": True}, "h": {"positive": True}},
    },
    # ---- chapter 5: score-based generative modelling with SDEs · 以 SDE 進行分數式生成建模 ----
    "5.1": {
        "label": "ex-sde-subvp",
        "kind": "expression",
        "form": ("the ratio σ²_subVP(t) / σ²_VP(t) of the two perturbation-kernel variances, an expression in B (for "
                 "B(t) = ∫_0^t β(s) ds)",
                 "兩個擾動核變異數之比 σ²_subVP(t) / σ²_VP(t)，以 B（代表 B(t) = ∫_0^t β(s) ds）表示的式子"),
        "hint": ("In the variable B both variances solve linear equations, v' = -v + 1 for VP and "
                 "v' = -v + 1 - e^(-2B) for sub-VP, with v = 0 at B = 0; solve both, then divide.",
                 "以 B 為變數時，兩個變異數都滿足線性方程式：VP 是 v' = -v + 1，sub-VP 是 v' = -v + 1 - e^(-2B)，"
                 "且 B = 0 時 v = 0；把兩者解出來再相除。"),
        "answer": "IjEgLSBleHAoLUIpIg==",
        "symbols": {"B": {"positive": True}},
    },
    "5.3": {
        "label": "ex-sde-prior",
        "kind": "number",
        "form": ("α_T of the VP SDE for β_min = 0.1, β_max = 2 and T = 1, a number",
                 "β_min = 0.1、β_max = 2、T = 1 時 VP SDE 的 α_T，一個數"),
        "hint": ("α_T = exp(-B(T)/2) with B(T) = ∫_0^T β(s) ds, and β grows linearly from β_min to β_max.",
                 "α_T = exp(-B(T)/2)，其中 B(T) = ∫_0^T β(s) ds，而 β 從 β_min 線性增加到 β_max。"),
        "answer": "MC41OTE1NTUzNjQzNjY4MTUx",
        "rtol": 1e-3,
    },
    # ---- chapter 6: the reverse-time SDE · 反向時間 SDE ----
    "6.1": {
        "label": "ex-rt-ou",
        "kind": "expression",
        "form": ("the reverse drift f̄(x, t) of Ornstein–Uhlenbeck started in N(0, s_0²), an expression in x, t, "
                 "beta, sigma and s0 (for s_0)",
                 "從 N(0, s_0²) 出發的 Ornstein–Uhlenbeck 過程的反向漂移 f̄(x, t)，以 x、t、beta、sigma 與 s0"
                 "（代表 s_0）表示的式子"),
        "hint": ("p_t is Gaussian with mean 0; its variance v_t solves v' = -2βv + σ² with v(0) = s_0². The score "
                 "of N(0, v_t) is -x/v_t, and f̄ = f - σ² times the score.",
                 "p_t 是平均為 0 的高斯分佈；其變異數 v_t 滿足 v' = -2βv + σ²、v(0) = s_0²。N(0, v_t) 的分數是"
                 " -x/v_t，而 f̄ = f - σ² 乘以分數。"),
        "answer": "Ii1iZXRhKnggKyBzaWdtYSoqMip4LyhzMCoqMipleHAoLTIqYmV0YSp0KSArIHNpZ21hKioyKigxIC0gZXhwKC0yKmJldGEqdCkpLygyKmJldGEpKSI=",
        "symbols": {"x": {"real": True}, "t": {"positive": True}, "beta": {"positive": True},
                    "sigma": {"positive": True}, "s0": {"positive": True}},
    },
    "6.2": {
        "label": "ex-rt-div",
        "kind": "expression",
        "form": ("the row-wise divergence ∇·Σ(x) for G(x) = [[x2, 0], [x1, 1]], a list of two expressions in x1 and "
                 "x2",
                 "G(x) = [[x2, 0], [x1, 1]] 時 Σ(x) 的逐列散度 ∇·Σ(x)，以 x1 與 x2 表示的兩個式子組成的串列"),
        "hint": ("First multiply out Σ = G Gᵀ; entry i of the divergence is the sum over j of ∂Σ_ij/∂x_j.",
                 "先算出 Σ = G Gᵀ；散度的第 i 個分量是對 j 求和的 ∂Σ_ij/∂x_j。"),
        "answer": "WyJ4MSIsICJ4MiJd",
        "symbols": {"x1": {"real": True}, "x2": {"real": True}},
    },
    # ---- chapter 7: sliced score matching where it pays · 切片分數匹配的用武之地 ----
    "7.1": {
        "label": "ex-07-shared-cost",
        "kind": "expression",
        "stars": 2,
        "type": "symbolic",
        "form": ("the cost of the shared form as a fraction of the repeated batch's, an expression in M",
                 "共用作法的代價佔重複批次作法的比例，以 M 表示的式子"),
        "hint": ("Count units: the repeated batch runs the forward pass once per probe, the shared form once in all; "
                 "each probe needs its own directional product in both.",
                 "數單位：重複批次對每個探測向量各做一次前向計算，共用作法總共只做一次；兩者的每個探測向量都需要自己的方向乘積。"),
        "answer": "IigxICsgTSkvKDIqTSki",
        "symbols": {"M": {"positive": True}},
    },
    "7.2": {
        "label": "ex-07-uniform-bpd",
        "kind": "number",
        "stars": 1,
        "type": "numeric",
        "form": ("the bits per dimension of the uniform density on [-1, 1]^64, a number",
                 "[-1, 1]^64 上均勻密度的每維位元數，一個數"),
        "hint": ("-log p / D = log 2 for this density; put it into the bits-per-dimension formula, which adds "
                 "log(17/2) and divides by log 2.",
                 "這個密度的 -log p / D = log 2；代入每維位元數的公式：加上 log(17/2) 再除以 log 2。"),
        "answer": "NC4wODc0NjI4NDEyNTAzMzk=",
        "rtol": 1e-4,
    },
    "7.3": {
        "label": "ex-07-probe-variance",
        "kind": "expression",
        "stars": 3,
        "type": "symbolic",
        "form": ("[variance with Gaussian probes, variance with sphere probes] of v^T A v for A = -I/s^2, a list of "
                 "two expressions in d and s",
                 "A = -I/s^2 時 v^T A v 的 [高斯探測向量下的變異數, 球面探測向量下的變異數]，以 d 與 s 表示的兩個式子組成的串列"),
        "hint": ("Here v^T A v = -|v|^2 / s^2. For Gaussian v, |v|^2 is chi-squared with d degrees of freedom; on "
                 "the sphere of radius sqrt(d), |v|^2 does not vary.",
                 "此時 v^T A v = -|v|^2 / s^2。對高斯 v，|v|^2 服從自由度 d 的卡方分佈；在半徑 sqrt(d) 的球面上，|v|^2 不會變動。"),
        "answer": "WyIyKmQvcyoqNCIsICIwIl0=",
        "symbols": {"d": {"positive": True}, "s": {"positive": True}},
    },
    # ---- problem sets: exercises added for issue 20 (every exercise self-checkable) ----
    "7.4": {
        "label": "ex-07-why-project",
        "kind": "choice",
        "stars": 1,
        "type": "conceptual",
        "form": ("one of the labels a, b, c, d",
                 "選項標籤 a、b、c、d 之一"),
        "hint": ("Hutchinson's identity: what is E_v[vᵀJv] when E[vvᵀ] = I?",
                 "Hutchinson 恆等式：當 E[vvᵀ] = I 時，E_v[vᵀJv] 等於什麼？"),
        "answer": "ImEi",
        "options": ['a', 'b', 'c', 'd'],
    },
    "7.5": {
        "label": "ex-07-bpd-from-nats",
        "kind": "number",
        "stars": 1,
        "type": "numeric",
        "form": ("the bits per dimension, a number",
                 "每維位元數，一個數"),
        "hint": ("Add the dequantisation offset log(17/2) to the nats per dimension, then divide by log 2.",
                 "把去量化偏移量 log(17/2) 加到每維奈特數上，再除以 log 2。"),
        "answer": "My44MDg4MTAzNjE2OTQ4MjE1",
        "rtol": 0.0001,
    },
    "7.6": {
        "label": "ex-07-shared-code",
        "kind": "code",
        "stars": 2,
        "type": "coding",
        "form": ("your function ssm_shared itself (the function, not its output)",
                 "你寫的函式 ssm_shared 本身（傳入函式，而不是它的輸出）"),
        "hint": ("Row m of the projections depends on x through S(x) only: differentiate proj[m].sum() for each m with retain_graph=True, or pass the M probes as a batch of cotangents.",
                 "投影的第 m 列只透過 S(x) 依賴 x：對每個 m 以 retain_graph=True 微分 proj[m].sum()，或把 M 個探測向量當成一批餘切向量傳入。"),
        "answer": "eyJyZWZlcmVuY2UiOiAiZXgtMDctc2hhcmVkLWNvZGUifQ==",
    },
}
