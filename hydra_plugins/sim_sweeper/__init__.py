"""Hydra finds sweepers only in the `hydra_plugins` namespace: the simulator's packed
sweeper is registered from here (its code: sim/experiment/sweeper.py)."""
