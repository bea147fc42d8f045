"""Influence functions of the ATT(g,t) cells and the inference built on them.

Two responsibilities that always go together:

* **storage** — the influence function of a cell :math:`(g, t)` is zero for every unit
  outside cohort :math:`g` and its comparison group, so the ``(n, K)`` units × cells matrix is
  mostly zeros (with never-treated comparisons, each column is non-zero on about two of the
  seven cohort levels of a six-cohort panel). :class:`CellInfluence` keeps, for each block of
  units (a cohort level), one dense float64 array holding the rows of the cells that touch it,
  plus the cell indices; every product the aggregations and the bootstrap need is a sum over
  blocks, so the dense matrix is never built. Values are exactly those of the dense matrix.
* **inference** — :class:`Inference` turns influence functions (dense ``(n, m)`` arrays or a
  :class:`CellInfluence`) into standard errors, covariance matrices and sup-t critical
  values: analytic (optionally clustered) or a multiplier bootstrap; :class:`MultiplierStream`
  regenerates large multiplier matrices block by block; :class:`LinearForm` writes an
  aggregation's influence functions as a linear map of the cells' and the cohort indicators',
  so that every bootstrap draw follows from one set of draws (the bootstrap shortcut).

All influence functions are scaled so that, without clustering, a standard error is
``sqrt(sum(psi**2)) / n`` for ``n`` units.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
from scipy import sparse, stats

__all__ = ["TINY", "CellInfluence", "Inference", "LinearForm", "MultiplierStream",
           "as_cell_influence", "cluster_sums", "joint_wald", "mammen_weights"]

#: elements per chunk when a product with a wide left matrix is formed block by block
_CHUNK = 1 << 21


class _Changes:
    """A block whose rows are computed when read, from the outcomes of its units.

    Row ``r`` is :math:`s_r (Y_{c_r} - Y_{b_r} - m_r)` (times the units' weights), exactly
    the operations :func:`~utvardering.did.staggered.att_gt.att_gt_means` would store, so the values
    are identical; only the ``(periods, units)`` outcomes are kept.
    """

    def __init__(self, source: np.ndarray, weight: np.ndarray | None, rows: int) -> None:
        self.source, self.weight = source, weight
        self.periods = np.zeros((rows, 2), dtype=np.intp)
        self.coef = np.zeros((rows, 2))  # centre, scale
        self.filled = np.zeros(rows, dtype=bool)
        self.shape = (rows, source.shape[1])

    def set(self, r: int, cur: int, base: int, centre: float, scale: float) -> None:
        self.periods[r] = cur, base
        self.coef[r] = centre, scale
        self.filled[r] = True

    def row(self, r: int, out: np.ndarray) -> np.ndarray:
        """Row ``r`` written into ``out`` (zero if it was never set)."""
        if not self.filled[r]:
            out[:] = 0.0
            return out
        (cur, base), (centre, scale) = self.periods[r].tolist(), self.coef[r]
        np.multiply(np.subtract(self.source[cur] - self.source[base], centre, out=out), scale,
                    out=out)
        if self.weight is not None:
            out *= self.weight
        return out

    def array(self) -> np.ndarray:
        out = np.zeros(self.shape)
        for r in np.flatnonzero(self.filled).tolist():
            self.row(r, out[r])
        return out

    def __getitem__(self, r: int) -> np.ndarray:
        return self.row(r, np.empty(self.shape[1]))


class _Blocks:
    """The blocks as a sequence; a :class:`_Changes` block is computed on each read."""

    def __init__(self, items: list) -> None:
        self.items = items

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, b: int) -> np.ndarray:
        item = self.items[b]
        return item.array() if isinstance(item, _Changes) else item

    def __iter__(self):
        return (self[b] for b in range(len(self.items)))


class CellInfluence:
    """The ``(n, K)`` influence matrix as per-block dense arrays.

    Parameters
    ----------
    n, k : int
        Units and cells.
    order : ndarray of int, shape (n,)
        Unit indices grouped by block: block ``b`` holds units ``order[bounds[b]:bounds[b+1]]``.
    bounds : ndarray of int, shape (blocks + 1,)
    blocks : list of ndarray
        ``blocks[b]`` has shape ``(len(cells[b]), size of block b)``: row ``r`` is the
        influence function of cell ``cells[b][r]`` on the units of the block.
    cells : list of ndarray of int
        Sorted cell indices of each block.
    """

    def __init__(self, n: int, k: int, order: np.ndarray, bounds: np.ndarray,
                 blocks: list, cells: list) -> None:
        self.n, self.k = int(n), int(k)
        self.order, self.bounds = order, bounds
        self.blocks, self.cells = _Blocks(list(blocks)), cells

    @property
    def shape(self) -> tuple[int, int]:
        """(units, cells) of the influence-function matrix."""
        return self.n, self.k

    @classmethod
    def from_dense(cls, inf: np.ndarray) -> CellInfluence:
        """One block holding every unit and cell (a view of ``inf``, shape ``(n, K)``)."""
        n, k = inf.shape
        return cls(n, k, np.arange(n), np.array([0, n]), [inf.T], [np.arange(k)])

    @classmethod
    def by_level(cls, level: np.ndarray, n_levels: int, cell_levels: list, *,
                 computed: dict | None = None) -> CellInfluence:
        """Zero-filled storage: units grouped by ``level``; cell ``j`` touches ``cell_levels[j]``.

        ``computed`` maps a level to ``(outcomes, weights)`` of its units (``(periods, units)``
        and ``(units,)`` or None): that block is not stored but computed when read, from rows
        described with :meth:`set_change`.
        """
        n = level.shape[0]
        order = np.argsort(level, kind="stable")
        bounds = np.searchsorted(level[order], np.arange(n_levels + 1))
        cells = [np.array([j for j, lv in enumerate(cell_levels) if b in lv], dtype=np.intp)
                 for b in range(n_levels)]
        computed = computed or {}
        blocks = [_Changes(*computed[b], len(c)) if b in computed
                  else np.zeros((len(c), bounds[b + 1] - bounds[b])) for b, c in enumerate(cells)]
        out = cls(n, len(cell_levels), order, bounds, blocks, cells)
        out._slot = np.full((n_levels, len(cell_levels)), -1, dtype=np.intp)
        for b, c in enumerate(cells):
            out._slot[b, c] = np.arange(len(c))
        return out

    def units(self, b: int) -> np.ndarray:
        """Row positions of the units in cohort block ``b``."""
        return self.order[self.bounds[b]:self.bounds[b + 1]]

    def row(self, b: int, j: int) -> np.ndarray:
        """Writable row of cell ``j`` in block ``b`` (storage from :meth:`by_level`)."""
        return self._stored(b)[self._slot[b, j]]

    def set_change(self, b: int, j: int, cur: int, base: int, centre: float,
                   scale: float) -> None:
        """Row of cell ``j`` in a computed block ``b``: ``scale * (Y[cur] - Y[base] - centre)``."""
        self.blocks.items[b].set(self._slot[b, j], cur, base, centre, scale)

    def put(self, j: int, values: np.ndarray) -> None:
        """Store cell ``j`` from a full ``(n,)`` vector (zero outside its blocks)."""
        for b in np.flatnonzero(self._slot[:, j] >= 0):
            self._stored(b)[self._slot[b, j]] = values[self.units(b)]

    def _stored(self, b: int) -> np.ndarray:
        block = self.blocks.items[b]
        if isinstance(block, _Changes):
            raise ValueError(f"block {b} is computed from outcomes; describe its rows with "
                             "set_change().")
        return block

    def _parts(self):
        for b, (block, cells) in enumerate(zip(self.blocks, self.cells)):
            if block.size:
                yield self.units(b), block, cells

    def products(self, weights):
        """Yield ``(units, Psi[units] @ weights)`` block by block.

        ``weights`` is a ``(K, s)`` array or scipy sparse matrix (cells × summaries); each
        block gives the ``(units of the block, s)`` influence functions of the summaries, so
        a Gram matrix or cluster sums of ``s`` summaries never need the ``(n, K)`` matrix.
        """
        for units, block, cells in self._parts():
            yield units, np.asarray((weights[cells].T @ block).T)

    def dense(self) -> np.ndarray:
        """The ``(n, K)`` matrix (for checks and small problems only)."""
        out = np.zeros((self.n, self.k))
        for units, block, cells in self._parts():
            out[np.ix_(units, cells)] = block.T
        return out

    def dot_rows(self, weights: np.ndarray) -> np.ndarray:
        """``(Psi @ weights).T`` as a C-ordered ``(s, n)`` array for ``weights`` ``(K, s)``.

        Each cell enters few summaries, so the rows are added where their weight is non-zero
        (no dense product), into units in block order, and put in unit order at the end.
        """
        buf = np.zeros((weights.shape[1], self.n))
        for b, (block, cells) in enumerate(zip(self.blocks.items, self.cells)):
            if not (block.shape[0] and block.shape[1]):
                continue  # (a computed block gives its rows one at a time: never all at once)
            target = buf[:, self.bounds[b]:self.bounds[b + 1]]
            scratch = np.empty(target.shape[1])
            sub = weights[cells]
            last, row = -1, None
            for r, j in zip(*(x.tolist() for x in np.nonzero(sub))):
                if r != last:
                    last, row = r, block[r]
                target[j] += np.multiply(row, sub[r, j], out=scratch)
        if np.array_equal(self.bounds, [0, self.n]) and self.order is not None and (
                self.n == 0 or (self.order[0] == 0 and np.all(np.diff(self.order) == 1))):
            return buf
        back = np.empty_like(self.order)
        back[self.order] = np.arange(self.n)
        for row in buf:  # one row at a time: no second (s, n) array
            row[:] = row[back]
        return buf

    def left_multiply(self, m: np.ndarray) -> np.ndarray:
        """``m @ Psi`` for ``m`` of shape ``(d, n)``, in chunks of rows of ``m``."""
        out = np.zeros((m.shape[0], self.k))
        step = max(1, _CHUNK // max(self.n, 1))
        for lo in range(0, m.shape[0], step):
            part = m[lo:lo + step]
            for units, block, cells in self._parts():
                out[lo:lo + step, cells] += part[:, units] @ block.T
        return out

    def cluster_sums(self, cluster: np.ndarray, n_clusters: int) -> np.ndarray:
        """``(clusters, K)`` sums of the influence functions within clusters."""
        out = np.zeros((n_clusters, self.k))
        for units, block, cells in self._parts():
            member = sparse.csr_matrix(
                (np.ones(len(units)), (cluster[units], np.arange(len(units)))),
                shape=(n_clusters, len(units)))
            out[:, cells] += np.asarray(member @ block.T)
        return out

    def sum_squares(self) -> np.ndarray:
        """``(K,)`` column sums of squares."""
        out = np.zeros(self.k)
        for _, block, cells in self._parts():
            out[cells] += np.einsum("ij,ij->i", block, block)
        return out

    def gram(self, columns: np.ndarray | None = None) -> np.ndarray:
        """:math:`\\Psi^\\top \\Psi` of the selected columns (boolean mask over cells)."""
        pick = np.arange(self.k) if columns is None else np.flatnonzero(columns)
        where = np.full(self.k, -1)
        where[pick] = np.arange(len(pick))
        out = np.zeros((len(pick), len(pick)))
        for _, block, cells in self._parts():
            rows = np.flatnonzero(where[cells] >= 0)
            if rows.size:
                part = block[rows] if rows.size < len(cells) else block
                at = where[cells[rows]]
                out[np.ix_(at, at)] += part @ part.T
        return out


def as_cell_influence(inf) -> CellInfluence:
    """A :class:`CellInfluence` from either that or a dense ``(n, K)`` array."""
    return inf if isinstance(inf, CellInfluence) else CellInfluence.from_dense(np.asarray(inf))


TINY = np.sqrt(np.finfo(float).eps) * 10
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
        """Number of clusters (the units themselves when no cluster variable is given)."""
        return self.n if self.cluster is None else int(self.cluster.max()) + 1

    def cluster_sums(self, psi):
        """``(clusters, m)`` sums of the influence functions within clusters.

        Without clusters the influence functions themselves (a
        :class:`~utvardering.did.staggered.influence.CellInfluence` stays one).
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
            se[~(se > TINY)] = np.nan
            return se, z
        g = self.n_clusters
        if form is not None and getattr(self, "_cell_draws", None) is not None:
            raw = self._cell_draws @ form.cells + self._cohort_draws @ form.cohorts
        else:
            raw = self._draws(self.cluster_sums(psi))
        draws = raw * (np.sqrt(g) / g)
        ok = np.all(np.isfinite(draws), axis=0) & (np.einsum("ij,ij->j", draws, draws) > TINY)
        sigma = np.full(draws.shape[1], np.nan)
        if ok.any():
            b = draws.shape[0]
            rows = [int(np.ceil(0.25 * b)) - 1, int(np.ceil(0.75 * b)) - 1]
            q25, q75 = np.partition(draws[:, ok], rows, axis=0)[rows]
            sigma[ok] = (q75 - q25) / _IQR
        sigma[~(sigma > TINY)] = np.nan
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

    cells: np.ndarray | sparse.csr_matrix
    cohorts: np.ndarray

    @classmethod
    def identity(cls, k: int, c: int) -> LinearForm:
        """The cells themselves; ``cells`` is a sparse identity (a dense ``k × k`` one is
        500 MB at 8,000 cells), and products with it are exact.
        """
        return cls(sparse.identity(k, format="csr"), np.zeros((c, k)))


def cluster_sums(psi: np.ndarray, cluster: np.ndarray | None) -> np.ndarray:
    """Sums of the rows of ``psi`` within clusters (``psi`` itself without clusters)."""
    if cluster is None:
        return psi
    out = np.zeros((int(cluster.max()) + 1, *psi.shape[1:]))
    np.add.at(out, cluster, psi)
    return out


def joint_wald(coef: np.ndarray, vcov: np.ndarray, n_clusters: int,
               what: str = "pre-treatment coefficients",
               advice: str = "test fewer leads, or read the leads one by one and use "
                             "honest_did()") -> tuple[dict, str | None]:
    """Rank-aware joint Wald test that ``coef`` are all zero.

    :math:`W = \\hat a^\\top \\hat V^{-1} \\hat a \\sim \\chi^2_q`. A cluster-robust
    :math:`\\hat V` built from :math:`G` clusters has rank at most :math:`G - 1`, so with
    :math:`q \\ge G` it is singular and :math:`W` would be noise that flips with the order of
    the units. Then (or when :math:`\\hat V` is numerically singular: smallest eigenvalue
    below :math:`10^{-10}` of the largest) the test is not computed: NaN, and a note naming
    the counts is returned instead.

    Returns
    -------
    dict
        ``pretrend_wald``, ``pretrend_df``, ``pretrend_p_value``.
    str or None
        Why the test was not computed (``None`` when it was, or when ``q = 0``).
    """
    coef = np.asarray(coef, dtype=float)
    q = int(coef.size)
    out = {"pretrend_wald": np.nan, "pretrend_df": q, "pretrend_p_value": np.nan}
    if q == 0:
        return out, None
    if q >= n_clusters:
        return out, (f"joint pre-trend test not computed: {q} {what} but only {n_clusters} "
                     f"clusters (the cluster-robust covariance has rank at most "
                     f"{n_clusters - 1} < {q}); {advice}.")
    vcov = (np.asarray(vcov, dtype=float) + np.asarray(vcov, dtype=float).T) / 2
    values, vectors = np.linalg.eigh(vcov)
    if not np.all(np.isfinite(values)) or values[-1] <= 0 or values[0] <= 1e-10 * values[-1]:
        return out, (f"joint pre-trend test not computed: the covariance of the {q} {what} is "
                     "singular (some leads are exact linear combinations of others).")
    rotated = vectors.T @ coef
    wald = float(np.sum(rotated**2 / values))
    out.update(pretrend_wald=wald, pretrend_p_value=float(stats.chi2.sf(wald, q)))
    return out, None
