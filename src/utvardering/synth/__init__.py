"""Synthetic control family: ADH, augmented, penalized and synthetic difference-in-differences."""
