"""Difference-in-differences estimators: 2×2, TWFE, event studies, counts, surveys, staggered."""
