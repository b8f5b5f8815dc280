"""Layer 3, the training step: a config checked and turned into an `Experiment` (config,
experiment), the game's update rules (game) and the pure, compiled step, chunk and evaluation
(train). Imports parts and metrics only.
"""
