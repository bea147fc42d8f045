"""The data layer: contracts, time parsing, readers of the public formats, simulated worlds
and the bundled datasets.
"""

