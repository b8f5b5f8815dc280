"""Layer 5, what is read back from finished runs: a trained run (api), sweep reports (report),
seed statistics (stats), comparisons of sweeps (compare), results tables (load), sample export
(export) and the game's spectrum (spectrum). Imports every lower layer, never the command line.
"""
