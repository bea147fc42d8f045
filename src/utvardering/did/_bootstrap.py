"""Standard errors from influence functions: analytic, clustered, multiplier bootstrap.

:class:`Inference` turns influence functions (dense ``(n, m)`` arrays or the per-block
:class:`~utvardering.did._cell_influence.CellInfluence` of the ATT(g,t) cells) into
standard errors and sup-t critical values; :class:`MultiplierStream` regenerates large
multiplier matrices block by block; :class:`LinearForm` writes an aggregation's influence
functions as a linear map of the cells' and the cohort indicators', so that every bootstrap
draw follows from one set of draws (the bootstrap shortcut).

All influence functions are scaled so that, without clustering, a standard error is
``sqrt(sum(psi**2)) / n`` for ``n`` units.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
from scipy import sparse

from ._cell_influence import CellInfluence

__all__ = ["Inference", "LinearForm", "MultiplierStream", "mammen_weights"]

_TINY = np.sqrt(np.finfo(float).eps) * 10
_NORMAL = NormalDist()
#: normal interquartile range, the scale of the bootstrap's IQR standard error
_IQR = _NORMAL.inv_cdf(0.75) - _NORMAL.inv_cdf(0.25)
#: rows per block when a product over all units is accumulated block by block
_BLOCK = 1 << 15


def mammen_weights(rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    """Mammen (1993) two-point multipliers: mean 0, variance 1, third moment 1."""
    root5 = np.sqrt(5.0)
    low, high = (1.0 - root5) / 2.0, (1.0 + root5) / 2.0
    p_low = (root5 + 1.0) / (2.0 * root5)
    return np.where(rng.random(size) < p_low, low, high)


@dataclass
class Inference:
    """How standard errors are computed from influence functions.

    Attributes
    ----------
    n : int
        Number of units (rows of the influence functions).
    cluster : ndarray of int, optional
        Cluster code of each unit (``None``: units are the clusters).
    multipliers : ndarray, optional
        ``(draws, clusters)`` bootstrap multipliers; ``None`` for analytic standard errors.
    level : float
        Confidence level.
    """

    n: int
    cluster: np.ndarray | None = None
    multipliers: np.ndarray | None = None
    level: float = 0.95

    @property
    def n_clusters(self) -> int:
        return self.n if self.cluster is None else int(self.cluster.max()) + 1

    def cluster_sums(self, psi):
        """``(clusters, m)`` sums of the influence functions within clusters.

        Without clusters the influence functions themselves (a
        :class:`~utvardering.did._cell_influence.CellInfluence` stays one).
        """
        if isinstance(psi, CellInfluence):
            if self.cluster is None:
                return psi
            return psi.cluster_sums(self.cluster, self.n_clusters)
        psi = psi.reshape(self.n, -1)
        if self.cluster is None:
            return psi
        member = sparse.csr_matrix((np.ones(self.n), (self.cluster, np.arange(self.n))),
                                   shape=(self.n_clusters, self.n))
        return np.asarray(member @ psi)

    def _draws(self, sums: np.ndarray) -> np.ndarray:
        """``(draws, m)`` products of the multipliers with the cluster sums."""
        if isinstance(self.multipliers, np.ndarray):
            return _times(self.multipliers, sums)
        return self.multipliers.product(sums)

    def prepare_bootstrap(self, cells, unit_group: np.ndarray,
                          unit_weight: np.ndarray, cohort_values: np.ndarray) -> None:
        """Draw the bootstrap once for the cell influence functions and the cohort indicators.

        Afterwards the draws of any :class:`LinearForm` are two small products instead of a
        pass over all units (one product ``multipliers @ sums`` for everything).
        """
        if self.multipliers is None:
            return
        position = np.searchsorted(cohort_values, unit_group)
        indicators = np.zeros((self.n, len(cohort_values)))
        indicators[np.arange(self.n), position] = unit_weight
        sums = self.cluster_sums(cells)
        if isinstance(sums, CellInfluence):  # unclustered cells: product block by block
            self._cell_draws = self._draws(sums)
            self._cohort_draws = self._draws(self.cluster_sums(indicators))
            return
        draws = self._draws(np.hstack([sums, self.cluster_sums(indicators)]))
        self._cell_draws = draws[:, :cells.shape[1]]
        self._cohort_draws = draws[:, cells.shape[1]:]

    def standard_errors(self, psi,
                        form: LinearForm | None = None) -> tuple[np.ndarray, float]:
        """Standard errors of the columns of ``psi`` and a critical value for joint bands.

        Analytic: :math:`\\sqrt{\\sum_c S_c^2}/n` with :math:`S_c` the cluster sums, and the
        normal quantile. Bootstrap: :math:`\\hat b_j = \\sqrt{G}\\,G^{-1}\\sum_c V_c S_{cj}`
        over the multiplier draws :math:`V`; the standard error is the normalised
        interquartile range of :math:`\\hat b_j` times :math:`\\sqrt{G}/n`, and the critical
        value is the ``level`` quantile of :math:`\\max_j |\\hat b_j| / \\hat\\sigma_j`
        (sup-t band). With ``form`` (and :meth:`prepare_bootstrap` done) the draws come from
        the stored draws of the cells and cohorts; ``psi`` is then not read.
        """
        z = _NORMAL.inv_cdf(0.5 + self.level / 2)
        if self.multipliers is None:
            sums = self.cluster_sums(psi)
            if isinstance(sums, CellInfluence):
                se = np.sqrt(sums.sum_squares()) / self.n
            else:
                se = np.sqrt(np.einsum("ij,ij->j", sums, sums)) / self.n
            se[~(se > _TINY)] = np.nan
            return se, z
        g = self.n_clusters
        if form is not None and getattr(self, "_cell_draws", None) is not None:
            raw = self._cell_draws @ form.cells + self._cohort_draws @ form.cohorts
        else:
            raw = self._draws(self.cluster_sums(psi))
        draws = raw * (np.sqrt(g) / g)
        ok = np.all(np.isfinite(draws), axis=0) & (np.einsum("ij,ij->j", draws, draws) > _TINY)
        sigma = np.full(draws.shape[1], np.nan)
        if ok.any():
            b = draws.shape[0]
            rows = [int(np.ceil(0.25 * b)) - 1, int(np.ceil(0.75 * b)) - 1]
            q25, q75 = np.partition(draws[:, ok], rows, axis=0)[rows]
            sigma[ok] = (q75 - q25) / _IQR
        sigma[~(sigma > _TINY)] = np.nan
        se = sigma * np.sqrt(g) / self.n
        good = np.isfinite(sigma)
        if not good.any():
            return se, z
        t_max = np.max(np.abs(draws[:, good] / sigma[good]), axis=1)
        k = int(np.ceil(self.level * len(t_max))) - 1
        crit = float(np.partition(t_max, k)[k])
        return se, crit

    def vcov(self, psi) -> np.ndarray:
        """Analytic covariance matrix of the estimates, :math:`S^\\top S / n^2`."""
        return self.gram(psi) / self.n**2

    def gram(self, psi, columns: np.ndarray | None = None) -> np.ndarray:
        """:math:`S^\\top S` of the cluster sums (of the selected columns)."""
        sums = self.cluster_sums(psi)
        if isinstance(sums, CellInfluence):
            return sums.gram(columns)
        return _gram(sums, columns)


def _times(v: np.ndarray, sums) -> np.ndarray:
    """``v @ sums`` for a dense array or a :class:`CellInfluence`."""
    if isinstance(sums, CellInfluence):
        return sums.left_multiply(v)
    return v @ sums


def _gram(a: np.ndarray, columns: np.ndarray | None = None) -> np.ndarray:
    """:math:`A^\\top A` (of the selected columns), accumulated over blocks of rows."""
    m = a.shape[1] if columns is None else int(np.count_nonzero(columns))
    out = np.zeros((m, m))
    for lo in range(0, a.shape[0], _BLOCK):  # no (n, m) temporaries
        block = a[lo:lo + _BLOCK] if columns is None else a[lo:lo + _BLOCK][:, columns]
        out += block.T @ block
    return out


class MultiplierStream:
    """Multiplier draws regenerated block by block instead of held in memory.

    For many clusters the ``(draws, clusters)`` multiplier matrix is large; this object
    draws it again in blocks of draws from a fixed seed each time a product is needed, so
    every statistic sees the same multipliers while memory stays bounded.
    """

    def __init__(self, draws: int, clusters: int, kind: str, seed: int,
                 block_elements: int = 1 << 22) -> None:
        self.shape = (draws, clusters)
        self.kind, self.seed = kind, seed
        self.block = max(1, block_elements // max(clusters, 1))

    def product(self, sums) -> np.ndarray:
        """``V @ sums`` for the ``(draws, clusters)`` multipliers ``V``."""
        rng = np.random.default_rng(self.seed)
        draws, clusters = self.shape
        out = np.empty((draws, sums.shape[1]))
        for lo in range(0, draws, self.block):
            size = (min(self.block, draws - lo), clusters)
            if self.kind == "mammen":
                v = mammen_weights(rng, size)
            else:
                v = np.where(rng.random(size) < 0.5, -1.0, 1.0)
            out[lo:lo + size[0]] = _times(v, sums)
        return out


@dataclass
class LinearForm:
    """Influence functions written as :math:`\\Psi = \\Psi_{cells} A + E B`.

    :math:`\\Psi_{cells}` is the ``(n, K)`` matrix of the ATT(g,t) influence functions and
    :math:`E_{ic} = w_i 1\\{G_i = c\\}` the ``(n, C)`` weighted cohort indicators, so every
    multiplier-bootstrap draw of :math:`\\Psi` follows from the draws of :math:`\\Psi_{cells}`
    and :math:`E`, computed once (:meth:`Inference.prepare_bootstrap`).
    """

    cells: np.ndarray
    cohorts: np.ndarray

    @classmethod
    def identity(cls, k: int, c: int) -> LinearForm:
        return cls(np.eye(k), np.zeros((c, k)))
