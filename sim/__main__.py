"""`python -m sim`: the Hydra app, with one-line errors for bad input."""

from __future__ import annotations

import os
import sys

# The matrices here are small: BLAS threads only compete with each other and, in a sweep,
# with the other workers. Set before numpy is imported; a user's own setting wins.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
# The CLI writes PNG files and never opens a window; set in the environment (not with
# matplotlib.use) so that the launcher's worker processes inherit it.
os.environ.setdefault("MPLBACKEND", "Agg")

from sim.experiment.error_lines import exit_with  # noqa: E402


def main() -> None:
    """Run the Hydra app; a bad config or override ends with one line and exit status 2.

    Hydra prints multi-line reports on its own; we ask it to raise (HYDRA_FULL_ERROR=1)
    and print one line ourselves, unless the user set HYDRA_FULL_ERROR=1 to see it all.
    """
    os.environ["HYDRA_FULL_ERROR"] = "1"
    from sim.experiment.validation import refuse_empty_dicts
    from sim.front.hydra_main import hydra_main

    try:
        refuse_empty_dicts(sys.argv[1:])
        hydra_main()
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:
        exit_with(exc)


if __name__ == "__main__":
    main()
