"""The negotiation engine: Mesa agents and the batched model that runs the rounds."""
