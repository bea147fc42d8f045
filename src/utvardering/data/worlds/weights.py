"""Post-stratification weights for the simulated surveys."""

from __future__ import annotations

import numpy as np

__all__ = ["poststratify"]


def poststratify(
    group: np.ndarray,
    cell: np.ndarray,
    sex: np.ndarray,
    population: np.ndarray,
) -> np.ndarray:
    r"""Post-stratified weights :math:`w_r = N_{hc}/n_{hc}` within each group :math:`h`.

    Parameters
    ----------
    group : ndarray of int
        Group (area × year, or school × year) of each respondent, ``0..H-1``.
    cell : ndarray of int
        Post-stratum of each respondent, ``0..C-1``, with ``cell % 2`` the sex.
    sex : ndarray of int
        0/1 sex code of each respondent (equals ``cell % 2``).
    population : ndarray, shape (H, C)
        Population counts :math:`N_{hc}`.

    Returns
    -------
    ndarray
        One weight per respondent; within each group the weights sum to the group's
        population. A group with an empty post-stratum (a population cell nobody in it
        answered for) is collapsed to sex; a group where one sex has no respondents is
        weighted to its total, :math:`N_h/n_h`.
    """
    n_groups, n_cells = population.shape
    n = np.bincount(group * n_cells + cell, minlength=n_groups * n_cells).reshape(n_groups, n_cells)
    fine_ok = np.all((n > 0) | (population == 0), axis=1)
    pop_sex = population.reshape(n_groups, -1, 2).sum(axis=1)
    n_sex = n.reshape(n_groups, -1, 2).sum(axis=1)
    sex_ok = np.all((n_sex > 0) | (pop_sex == 0), axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        w_fine = population / n
        w_sex = pop_sex / n_sex
        w_total = population.sum(axis=1) / n.sum(axis=1)
    return np.where(
        fine_ok[group],
        w_fine[group, cell],
        np.where(sex_ok[group], w_sex[group, sex], w_total[group]),
    )
