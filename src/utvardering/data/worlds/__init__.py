"""Internals of the simulated Malmö worlds; the public entry points are in
:mod:`utvardering.data.simulate`.
"""
