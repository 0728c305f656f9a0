"""`hydra/sweeper=packed`: the simulator's sweeper, where Hydra's plugin discovery looks
for it (a plugin's class must be defined in the `hydra_plugins` namespace)."""

from sim.experiment import sweeper


class PackedSweeper(sweeper.PackedSweeper):
    """sim.experiment.sweeper.PackedSweeper, registered with Hydra."""


sweeper.register()
