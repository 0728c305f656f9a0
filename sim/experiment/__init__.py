"""From a config to results: validation, the compile step, draws, stability assessment,
jobs, sweeps, storage and the forecast scorecard."""
