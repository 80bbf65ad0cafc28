"""The Fréchet distance between two Gaussians fitted to features (FID with an Inception net).

d^2 = ||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2)), in float64 with scipy's sqrtm, handling
singular products and small imaginary parts as TTUR and pytorch-fid do.
"""

from __future__ import annotations

import numpy as np
from scipy import linalg

from metrics.streaming import FeatureStatistics


def frechet_distance(mu1, sigma1, mu2, sigma2, eps: float = 1e-6) -> float:
    """Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2).

    When fewer samples than dimensions make the product singular and sqrtm fails, `eps` is added
    to both diagonals and the root is taken again (TTUR). Besides a non-finite result, a root
    whose square is far from the product counts as a failure: on singular input scipy can
    return finite garbage.
    """
    mu1 = np.atleast_1d(np.asarray(mu1, dtype=np.float64))
    mu2 = np.atleast_1d(np.asarray(mu2, dtype=np.float64))
    sigma1 = np.atleast_2d(np.asarray(sigma1, dtype=np.float64))
    sigma2 = np.atleast_2d(np.asarray(sigma2, dtype=np.float64))
    if mu1.shape != mu2.shape:
        raise ValueError(f"mean shapes differ: {mu1.shape} vs {mu2.shape}")
    if sigma1.shape != sigma2.shape or sigma1.shape != (mu1.size, mu1.size):
        raise ValueError(
            f"covariance shapes {sigma1.shape}, {sigma2.shape} do not fit mean {mu1.shape}"
        )

    diff = mu1 - mu2
    product = sigma1 @ sigma2
    covmean = _reliable_sqrtm(product)
    if covmean is None:
        offset = np.eye(sigma1.shape[0]) * eps
        product = (sigma1 + offset) @ (sigma2 + offset)
        covmean = _reliable_sqrtm(product)
        if covmean is None:
            raise ValueError("sqrtm of the covariance product failed even with an offset")
    if np.iscomplexobj(covmean):
        if np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            trace_root = np.trace(covmean.real)
        else:
            # A product of two PSD matrices has real, non-negative eigenvalues and a real root,
            # but on rank-deficient products sqrtm can land on a complex branch (seen with
            # scipy 1.12's blocked algorithm on AVX-512 BLAS). The trace of the root is the
            # sum of the eigenvalues' roots, which does not need the root itself.
            trace_root = _trace_of_root_by_eigenvalues(product)
    else:
        trace_root = np.trace(covmean)
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * trace_root)


def _trace_of_root_by_eigenvalues(product: np.ndarray) -> float:
    """Tr(product^(1/2)) for a product of two PSD matrices; raises when its eigenvalues are not
    (numerically) real and non-negative, i.e. when the statistics are broken."""
    eigenvalues = np.linalg.eigvals(product)
    scale = max(np.max(np.abs(eigenvalues)), np.finfo(np.float64).tiny)
    if np.max(np.abs(eigenvalues.imag)) > 1e-6 * scale or np.min(eigenvalues.real) < -1e-6 * scale:
        raise ValueError(
            "the covariance product has eigenvalues that are not real and "
            "non-negative: the statistics are broken"
        )
    return float(np.sqrt(np.clip(eigenvalues.real, 0.0, None)).sum())


def _reliable_sqrtm(matrix, tolerance: float = 1e-3):
    """scipy's sqrtm, or None when its result is non-finite or does not square back to `matrix`."""
    root, _ = linalg.sqrtm(matrix, disp=False)
    if not np.isfinite(root).all():
        return None
    scale = max(np.linalg.norm(matrix), np.finfo(np.float64).tiny)
    return root if np.linalg.norm(root @ root - matrix) / scale <= tolerance else None


def fid_from_statistics(real: FeatureStatistics, fake: FeatureStatistics) -> float:
    return frechet_distance(real.mean, real.covariance, fake.mean, fake.covariance)


def too_few_samples(count: int, dim: int, what: str) -> str | None:
    """A warning when the covariance of `count` samples in `dim` dimensions is singular.

    FID is biased and, strictly, undefined there: the eps retry makes it computable, not right.
    """
    if count >= dim:
        return None
    return (
        f"{what}: {count} samples < {dim} feature dimensions; the covariance is singular and "
        f"the Fréchet distance is biased (use at least {dim} samples, ideally 10x more)"
    )
