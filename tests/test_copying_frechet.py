"""Tests of scoresde.metrics' copying test, Fréchet distance and classifier features.

* frechet_distance: 0 for identical sets; for feature sets built with exact sample means and covariances, the
  closed form |mu_a - mu_b|^2 + sum (sqrt(l_a) - sqrt(l_b))^2 for commuting covariances, and an independent
  scipy.linalg.sqrtm computation of tr(Sa + Sb - 2 (Sa Sb)^(1/2)) for non-commuting ones.
* classifier_features: the hidden layer of a fitted MLPClassifier, checked by finishing the forward pass by hand
  (softmax of the output layer) and comparing with the classifier's own predict_proba.
* copying_test: without copying, z averages 0 with unit-order spread over replicates (exchangeable references);
  noisy copies of training points are flagged (z > 3), and so are exact copies.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg
import torch
from sklearn.neural_network import MLPClassifier

from scoresde.metrics import CopyingResult, classifier_features, copying_test, frechet_distance


def with_moments(n: int, mean: torch.Tensor, cov: torch.Tensor, seed: int) -> torch.Tensor:
    """n points whose sample mean and unbiased sample covariance are exactly ``mean`` and ``cov``."""
    g = torch.Generator().manual_seed(seed)
    k = mean.numel()
    z = torch.randn(n, k, generator=g, dtype=torch.float64)
    z = z - z.mean(0)
    white = torch.linalg.cholesky(torch.cov(z.T))
    z = torch.linalg.solve_triangular(white, z.T, upper=False).T         # unbiased covariance I exactly
    return mean + z @ torch.linalg.cholesky(cov).T


def spd(k: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(k, k, generator=g, dtype=torch.float64)
    return a @ a.T + 0.5 * torch.eye(k, dtype=torch.float64)


def test_identical_sets_have_distance_zero():
    x = torch.randn(50, 6, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    assert abs(frechet_distance(x, x)) < 1e-10
    assert abs(frechet_distance(x.float(), x.float())) < 1e-4


def test_commuting_covariances_match_the_closed_form():
    mu_a, mu_b = torch.tensor([0.0, 1.0, -2.0], dtype=torch.float64), torch.tensor([0.5, 1.0, 0.0], dtype=torch.float64)
    la, lb = torch.tensor([1.0, 4.0, 0.25], dtype=torch.float64), torch.tensor([9.0, 1.0, 0.25], dtype=torch.float64)
    a, b = with_moments(40, mu_a, torch.diag(la), 1), with_moments(70, mu_b, torch.diag(lb), 2)
    expected = float((mu_a - mu_b).square().sum() + (la.sqrt() - lb.sqrt()).square().sum())
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-10, abs=1e-10)
    assert expected == pytest.approx(4.25 + 4.0 + 1.0)


def test_non_commuting_covariances_match_scipy_sqrtm():
    mu_a, mu_b = torch.zeros(5, dtype=torch.float64), torch.linspace(-1, 1, 5, dtype=torch.float64)
    ca, cb = spd(5, 3), spd(5, 4)
    assert not torch.allclose(ca @ cb, cb @ ca)                       # the case a naive formula gets wrong
    a, b = with_moments(30, mu_a, ca, 5), with_moments(45, mu_b, cb, 6)
    root = scipy.linalg.sqrtm(ca.numpy() @ cb.numpy())
    expected = float((mu_a - mu_b).square().sum()) + float(np.trace(ca.numpy() + cb.numpy() - 2 * root).real)
    got = frechet_distance(a, b)
    assert got == pytest.approx(expected, rel=1e-9)
    assert frechet_distance(b, a) == pytest.approx(got, rel=1e-9)
    # the product of the separate roots, a tempting shortcut, differs here by far more than the tolerance
    wrong = float(np.trace(ca.numpy() + cb.numpy() - 2 * scipy.linalg.sqrtm(ca.numpy()) @ scipy.linalg.sqrtm(cb.numpy())))
    assert abs(wrong + float((mu_a - mu_b).square().sum()) - got) > 1e-3


def test_singular_covariance_is_handled():
    """Fewer points than features: rank-deficient covariances, still a finite non-negative value."""
    g = torch.Generator().manual_seed(7)
    a, b = torch.randn(5, 20, generator=g, dtype=torch.float64), torch.randn(6, 20, generator=g, dtype=torch.float64)
    d = frechet_distance(a, b)
    assert math.isfinite(d) and d > 0


def fitted_mlp(hidden: tuple[int, ...], activation: str) -> tuple[MLPClassifier, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 16))
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 0.5).astype(int)
    clf = MLPClassifier(hidden, activation=activation, max_iter=300, random_state=0).fit(X, y)
    return clf, X


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize(("hidden", "activation"), [((8,), "relu"), ((7, 5), "tanh"), ((6,), "logistic")])
def test_classifier_features_finish_the_forward_pass(hidden, activation):
    clf, X = fitted_mlp(hidden, activation)
    x = torch.as_tensor(X[:10]).reshape(10, 1, 4, 4)
    h = classifier_features(clf, x)
    assert h.shape == (10, hidden[-1]) and h.dtype == torch.float64
    logits = h @ torch.as_tensor(clf.coefs_[-1]) + torch.as_tensor(clf.intercepts_[-1])
    torch.testing.assert_close(torch.softmax(logits, 1).numpy(), clf.predict_proba(X[:10]), rtol=1e-10, atol=1e-12)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_classifier_features_refuse_bad_input():
    clf, _ = fitted_mlp((4,), "relu")
    with pytest.raises(TypeError, match="classifier must be a fitted"):
        classifier_features(MLPClassifier((4,)), torch.zeros(2, 16))
    with pytest.raises(ValueError, match="the classifier takes 16"):
        classifier_features(clf, torch.zeros(2, 15))
    with pytest.raises(TypeError, match="x must be a torch.Tensor"):
        classifier_features(clf, np.zeros((2, 16)))


def references(seed: int, m_train: int = 300, m_held: int = 100) -> tuple[torch.Tensor, torch.Tensor, torch.Generator]:
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(m_train, 1, 3, 3, generator=g, dtype=torch.float64),
            torch.randn(m_held, 1, 3, 3, generator=g, dtype=torch.float64), g)


def test_copying_test_is_calibrated_without_copying():
    zs = []
    for seed in range(40):
        train, held, g = references(seed)
        fresh = torch.randn(80, 1, 3, 3, generator=g, dtype=torch.float64)
        r = copying_test(fresh, train, held)
        assert isinstance(r, CopyingResult) and r.expected == pytest.approx(0.75) and r.n_samples == 80
        zs.append(r.z)
    z = torch.tensor(zs)
    assert abs(float(z.mean())) < 5 * float(z.std()) / math.sqrt(len(zs))      # mean 0 within 5 SE
    assert 0.5 < float(z.std()) < 1.5 and float(z.abs().max()) < 4


def test_copying_test_flags_noisy_and_exact_copies():
    train, held, g = references(100)
    source = train[torch.randint(0, len(train), (80,), generator=g)]
    noisy = source + 0.3 * torch.randn(source.shape, generator=g, dtype=torch.float64)
    r = copying_test(noisy, train, held)
    assert r.fraction_closer_to_train > 0.95 and r.z > 3
    assert copying_test(source, train, held).fraction_closer_to_train == 1.0
    # equal sizes: the fair coin
    assert copying_test(source, train[:100], held).expected == 0.5


def test_copying_test_refuses_bad_input():
    train, held, _ = references(0)
    with pytest.raises(ValueError, match="same shape"):
        copying_test(torch.zeros(4, 1, 3, 2), train, held)
    with pytest.raises(ValueError, match="at least 2"):
        copying_test(torch.zeros(1, 1, 3, 3, dtype=torch.float64), train, held)
    with pytest.raises(TypeError, match="heldout must be a torch.Tensor"):
        copying_test(train, train, held.numpy())
    with pytest.raises(ValueError, match="non-finite"):
        copying_test(torch.full((3, 1, 3, 3), math.nan), train, held)


def test_frechet_refuses_bad_input():
    with pytest.raises(ValueError, match="same number of features"):
        frechet_distance(torch.zeros(3, 2), torch.zeros(3, 4))
    with pytest.raises(ValueError, match="at least 2 rows"):
        frechet_distance(torch.zeros(1, 2), torch.zeros(3, 2))
    with pytest.raises(ValueError, match="must have 2 dimensions"):
        frechet_distance(torch.zeros(3, 2, 1), torch.zeros(3, 2))


def test_copying_test_is_calibrated_when_samples_outnumber_references():
    """n = 1000 samples against m = 400 references: many samples share a nearest reference, so their verdicts
    move together. The standard error over the exchangeable labelling keeps z's spread near 1 (the naive
    sqrt(f0(1-f0)/n) gave a spread of 1.44 and 2 % of z above 3 here, 15 times the normal tail)."""
    zs = []
    for seed in range(150):
        g = torch.Generator().manual_seed(1000 + seed)
        train = torch.randn(200, 9, generator=g, dtype=torch.float64)
        held = torch.randn(200, 9, generator=g, dtype=torch.float64)
        r = copying_test(torch.randn(1000, 9, generator=g, dtype=torch.float64), train, held)
        assert r.se > math.sqrt(0.25 / 1000)          # wider than the naive error: shared neighbours
        zs.append(r.z)
    z = torch.tensor(zs)
    assert abs(float(z.mean())) < 5 * float(z.std()) / math.sqrt(len(zs))
    assert 0.8 < float(z.std()) < 1.2, float(z.std())
