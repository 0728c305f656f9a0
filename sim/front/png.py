"""A figure as PNG bytes, for the page (matplotlib imported only when a figure is drawn)."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def figure_png(fig: Figure, dpi: int | str = "figure", tight: bool = False) -> bytes:
    """A figure as PNG bytes (pyplot's figures are closed)."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight" if tight else None)
    finally:
        plt.close(fig)
    return buffer.getvalue()
