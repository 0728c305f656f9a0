"""Issues and the outcome grid.

An outcome is one level per issue; the outcome space is the Cartesian product of the
issues' levels, enumerated in C order (the last issue varies fastest). Every level of a
continuous or ordinal issue sits on the 0-100 position scale (higher favours the war's
aggressor by convention, docs/new-conflict.md); categorical levels have no position.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

SCALE_MIN = 0.0
SCALE_MAX = 100.0


class IssueKind(enum.StrEnum):
    continuous = "continuous"
    ordinal = "ordinal"
    categorical = "categorical"


@dataclass(frozen=True, eq=False)
class Issue:
    """One negotiated issue: named levels, their positions (NaN when categorical).

    `default` is the index of the status-quo level (what holds if the agreement is silent
    on the issue), or None when every agreement must settle the issue.
    """

    name: str
    kind: IssueKind
    levels: tuple[str, ...]
    positions: np.ndarray = field(repr=False)
    default: int | None = None

    def __post_init__(self) -> None:
        if len(self.levels) == 0:
            raise ValueError(f"issue {self.name!r}: no levels; allowed: at least one")
        if len(set(self.levels)) != len(self.levels):
            raise ValueError(f"issue {self.name!r}: duplicate level names {list(self.levels)}")
        if self.positions.shape != (len(self.levels),):
            raise ValueError(f"issue {self.name!r}: one position per level expected")
        self.positions.setflags(write=False)

    @classmethod
    def continuous(
        cls, name: str, low: float, high: float, resolution: float, default: float | None = None
    ) -> Issue:
        """A range [low, high] on the position scale sampled every `resolution` points."""
        if not resolution > 0:
            raise ValueError(f"issue {name!r}: resolution {resolution} must be > 0")
        steps = (high - low) / resolution
        count = round(steps) + 1
        if abs(steps - round(steps)) > 1e-6 * max(1.0, steps):
            raise ValueError(
                f"issue {name!r}: resolution {resolution} does not divide [{low}, {high}]"
            )
        positions = np.linspace(low, high, count)
        levels = _format_positions(positions)
        default_index = None if default is None else int(np.abs(positions - default).argmin())
        return cls(name, IssueKind.continuous, levels, positions, default_index)

    @classmethod
    def ordinal(cls, name: str, levels: Mapping[str, float], default: str | None = None) -> Issue:
        """Named levels in order, each with a position on the 0-100 scale."""
        names = tuple(levels)
        positions = np.asarray([float(levels[n]) for n in names])
        return cls(name, IssueKind.ordinal, names, positions, _index_or_none(names, default))

    @classmethod
    def categorical(cls, name: str, levels: Sequence[str], default: str | None = None) -> Issue:
        """Named levels without order or position."""
        names = tuple(levels)
        return cls(
            name,
            IssueKind.categorical,
            names,
            np.full(len(names), np.nan),
            _index_or_none(names, default),
        )

    @property
    def size(self) -> int:
        return len(self.levels)

    @property
    def positioned(self) -> bool:
        return self.kind is not IssueKind.categorical

    def level_index(self, level: str | float) -> int:
        """Index of a level given by name, or by position (nearest) for a positioned issue."""
        if isinstance(level, str):
            try:
                return self.levels.index(level)
            except ValueError:
                if self.kind is IssueKind.continuous:
                    try:
                        return self.level_index(float(level))
                    except ValueError:
                        pass
                raise KeyError(
                    f"issue {self.name!r}: unknown level {level!r}; allowed: {list(self.levels)}"
                ) from None
        if not self.positioned:
            raise KeyError(f"issue {self.name!r} is categorical: give a level name, not {level!r}")
        return int(np.abs(self.positions - float(level)).argmin())


def _format_positions(positions: np.ndarray) -> tuple[str, ...]:
    """Level names of grid points: 6 significant digits, more if needed to tell them apart."""
    for digits in range(6, 18):
        names = tuple(f"{p:.{digits}g}" for p in positions)
        if len(set(names)) == len(names):
            break
    return names


def _index_or_none(names: tuple[str, ...], level: str | None) -> int | None:
    if level is None:
        return None
    if level not in names:
        raise KeyError(f"unknown default level {level!r}; allowed: {list(names)}")
    return names.index(level)


@dataclass(frozen=True, eq=False)
class OutcomeSpace:
    """The Cartesian product of issues, as numpy arrays (one row per outcome)."""

    issues: tuple[Issue, ...]

    def __post_init__(self) -> None:
        if not self.issues:
            raise ValueError("outcome space: no issues; allowed: at least one issue")
        names = [i.name for i in self.issues]
        if len(set(names)) != len(names):
            raise ValueError(f"outcome space: duplicate issue names {names}")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(i.name for i in self.issues)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(i.size for i in self.issues)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    def issue(self, name: str) -> Issue:
        for issue in self.issues:
            if issue.name == name:
                return issue
        raise KeyError(f"unknown issue {name!r}; allowed: {list(self.names)}")

    def level_indices(self) -> np.ndarray:
        """(outcomes, issues) level indices in enumeration order, smallest integer dtype."""
        dtype = np.min_scalar_type(max(self.shape) - 1)
        grids = np.indices(self.shape, dtype=dtype)
        return grids.reshape(len(self.issues), -1).T

    @cached_property
    def grid(self) -> np.ndarray:
        """Cached read-only `level_indices()` as int64, for repeated lookups."""
        out = self.level_indices().astype(np.int64)
        out.setflags(write=False)
        return out

    @cached_property
    def grid_positions(self) -> np.ndarray:
        """Cached read-only `positions()`."""
        out = self.positions()
        out.setflags(write=False)
        return out

    def positions(self) -> np.ndarray:
        """(outcomes, issues) positions on the 0-100 scale; NaN for categorical issues."""
        idx = self.level_indices()
        out = np.empty(idx.shape, dtype=np.float64)
        for k, issue in enumerate(self.issues):
            out[:, k] = issue.positions[idx[:, k]]
        return out

    def unravel(self, outcome: int | np.ndarray) -> np.ndarray:
        """Level indices of one outcome (issues,) or of many (n, issues)."""
        return np.stack(np.unravel_index(outcome, self.shape), axis=-1)

    @cached_property
    def strides(self) -> tuple[int, ...]:
        """Outcome-index step of one level on each issue (C order)."""
        out, step = [], 1
        for size in reversed(self.shape):
            out.append(step)
            step *= size
        return tuple(reversed(out))

    def ravel(self, level_indices: np.ndarray | Sequence[int]) -> int | np.ndarray:
        """Outcome index (or indices) from level indices along the last axis."""
        arr = np.asarray(level_indices)
        flat = np.ravel_multi_index(tuple(np.moveaxis(arr, -1, 0)), self.shape)
        return int(flat) if np.ndim(flat) == 0 else flat

    def levels_of(self, outcome: int) -> dict[str, str]:
        """Named level of each issue for one outcome index."""
        if not 0 <= int(outcome) < self.size:
            raise IndexError(f"outcome {outcome} outside [0, {self.size})")
        idx = self.unravel(int(outcome))
        return {issue.name: issue.levels[int(i)] for issue, i in zip(self.issues, idx, strict=True)}

    def index_of(self, levels: Mapping[str, str | float]) -> int:
        """Outcome index from a level per issue (names, or positions for positioned issues)."""
        missing = set(self.names) - set(levels)
        unknown = set(levels) - set(self.names)
        if missing or unknown:
            raise KeyError(
                f"outcome levels: missing issues {sorted(missing)}, unknown {sorted(unknown)}; "
                f"allowed: {list(self.names)}"
            )
        idx = [issue.level_index(levels[issue.name]) for issue in self.issues]
        return int(self.ravel(idx))

    def describe(self, outcome: int) -> str:
        """`territory=65, nato=bid_dropped, ...` for printing."""
        return ", ".join(f"{k}={v}" for k, v in self.levels_of(outcome).items())
