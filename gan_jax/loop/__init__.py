"""Layer 4, the loop around the compiled step: workdirs, checkpoints, metric writers, sharding
over devices, one run (run) and a sweep of runs (sweep). Imports parts, metrics and step only.
"""
