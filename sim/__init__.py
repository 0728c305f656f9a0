"""peace-sim: an agent-based simulator of multiparty peace negotiations (Mesa + Hydra).

See README.md for use and docs/model.md for the model.
"""

__version__ = "0.1.0"
