"""The forecast scorecard's cases (docs/validation.md): a real negotiation is a scenario file
(`<config dir>/scenario/<case>.yaml`, read by the model) and, kept apart, a record of what
happened (`validation/<case>.yaml` for the shipped cases, `<cases_dir>/records/<case>.yaml`
for a user's), read only by the scorer. Nothing here runs the model; `sim.experiment.forecast` never
passes a record to it.

A record is checked before anything runs (`load_record`, `check_record`): every key known,
dates that parse, an agreement signed within its horizon, terms naming the scenario's own
issues and levels on its own scales, signatories among its parties, and real sources. Each
problem is a `ConfigError` naming the file and the key.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sim.experiment.schema import CONFIG_DIR
from sim.experiment.validation import ConfigError

ROOT = Path(CONFIG_DIR).parent
SHIPPED_RECORDS = ROOT / "validation"  # records of the shipped cases (never under conf/)
RECORDS = "records"  # a user's cases folder: scenario/<case>.yaml and records/<case>.yaml
SCENARIOS = "scenario"
DAYS_PER_MONTH = 365.25 / 12
HOLD_MONTHS = 24  # a signed deal "holds" if still in force this many months after signing

RECORD_KEYS = {
    "case": "the scenario's file name",
    "talks_opened": "an ISO date (YYYY-MM-DD)",
    "horizon_months": "months after talks_opened within which an agreement counts (> 0)",
    "horizon_reason": "why, when horizon_months is not 12 (else null)",
    "agreement": "true or false: an agreement signed within the horizon",
    "signed": "the ISO date it was signed, or null",
    "terms": "issue -> a number (continuous issue) or a level name",
    "held_24_months": "true or false (null without an agreement)",
    "signatories": "the parties that signed (optional)",
    "sources": "a list of documents (title, author or body, date)",
    "notes": "text",
}
REQUIRED = ("case", "talks_opened", "agreement", "sources")


@dataclass(frozen=True)
class Record:
    """What happened at a case's talks, as its record file says (checked)."""

    case: str
    path: Path
    talks_opened: dt.date
    horizon_months: float
    agreement: bool
    signed: dt.date | None
    terms: dict[str, float | str]
    held: bool | None
    sources: list[str]
    signatories: list[str] = field(default_factory=list)
    horizon_reason: str | None = None
    notes: str = ""

    @property
    def month(self) -> float:
        """Months from the opening of the talks to the signature (NaN without a deal)."""
        if self.signed is None or not self.agreement:
            return math.nan
        return (self.signed - self.talks_opened).days / DAYS_PER_MONTH


@dataclass(frozen=True)
class Case:
    """A case to score: its name, the config folder holding `scenario/<case>.yaml` (the
    shipped conf/ or a user's folder) and its record file."""

    name: str
    config_dir: Path
    record_path: Path

    @property
    def scenario_path(self) -> Path:
        return self.config_dir / SCENARIOS / f"{self.name}.yaml"

    @property
    def shipped(self) -> bool:
        return self.config_dir.resolve() == Path(CONFIG_DIR).resolve()


def _error(path: Path, key: str, value: Any, allowed: str) -> ConfigError:
    return ConfigError(f"{_shown(path)}: {key}", value, allowed)


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _date(path: Path, key: str, value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise _error(path, key, value, RECORD_KEYS[key]) from None


def load_record(path: Path) -> Record:
    """The record in `path`, its own fields checked (not yet against its scenario)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise _error(path, "file", str(path), f"a readable record ({exc.strerror})") from exc
    if not isinstance(data, dict):
        raise _error(path, "file", type(data).__name__, "a mapping of " + ", ".join(RECORD_KEYS))
    for key in data:
        if key not in RECORD_KEYS:
            raise _error(path, str(key), data[key], f"one of the keys {list(RECORD_KEYS)}")
    for key in REQUIRED:
        if data.get(key) is None:
            raise _error(path, key, None, RECORD_KEYS[key])
    if str(data["case"]) != path.stem:
        raise _error(path, "case", data["case"], f"the file's own name {path.stem!r}")
    sources = data["sources"]
    if not isinstance(sources, list) or not sources:
        raise _error(path, "sources", sources, "a non-empty list of documents")
    for k, source in enumerate(sources):
        if not isinstance(source, str) or len(source.strip()) < 10:
            allowed = "a document named by title, author or body and date"
            raise _error(path, f"sources[{k}]", source, allowed)
    opened = _date(path, "talks_opened", data["talks_opened"])
    horizon = data.get("horizon_months", 12)
    if isinstance(horizon, bool) or not isinstance(horizon, int | float) or not horizon > 0:
        raise _error(path, "horizon_months", horizon, RECORD_KEYS["horizon_months"])
    reason = data.get("horizon_reason")
    if float(horizon) != 12 and not reason:
        raise _error(path, "horizon_reason", reason, "a reason, since horizon_months is not 12")
    agreement = data["agreement"]
    if not isinstance(agreement, bool):
        raise _error(path, "agreement", agreement, RECORD_KEYS["agreement"])
    signed = None if data.get("signed") is None else _date(path, "signed", data["signed"])
    held = data.get("held_24_months")
    terms = data.get("terms") or {}
    if not isinstance(terms, dict):
        raise _error(path, "terms", terms, RECORD_KEYS["terms"])
    if agreement:
        if signed is None:
            raise _error(path, "signed", None, "the date of the agreement (agreement is true)")
        months = (signed - opened).days / DAYS_PER_MONTH
        if not 0 <= months <= float(horizon):
            allowed = f"a date from talks_opened {opened} to {horizon} months after it"
            raise _error(path, "signed", str(signed), allowed)
        if not isinstance(held, bool):
            raise _error(path, "held_24_months", held, "true or false (agreement is true)")
    else:
        if held is not None:
            raise _error(path, "held_24_months", held, "null (agreement is false)")
        if terms:
            raise _error(path, "terms", terms, "{} (agreement is false)")
    signatories = data.get("signatories") or []
    if not isinstance(signatories, list):
        raise _error(path, "signatories", signatories, RECORD_KEYS["signatories"])
    return Record(
        case=path.stem,
        path=path,
        talks_opened=opened,
        horizon_months=float(horizon),
        agreement=agreement,
        signed=signed,
        terms=dict(terms),
        held=held if agreement else None,
        sources=[str(s) for s in sources],
        signatories=[str(s) for s in signatories],
        horizon_reason=reason,
        notes=str(data.get("notes") or ""),
    )


def check_record(record: Record, cfg: Any) -> None:
    """`record` against its scenario's composed config `cfg` (a `sim.experiment.schema.plain` copy):
    the issues and levels its terms name, on the scales the scenario gives them, and the
    parties it names."""
    path = record.path
    issues = cfg.issues or {}
    for issue, value in record.terms.items():
        conf = issues.get(issue)
        if conf is None:
            raise _error(path, f"terms.{issue}", issue, f"an issue of the scenario: {list(issues)}")
        kind = str(conf.kind)
        if kind == "continuous":
            low, high = float(conf.low), float(conf.high)
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            if not ok or not low <= float(value) <= high:
                allowed = f"a number from {low:g} to {high:g} (the scenario's scale)"
                raise _error(path, f"terms.{issue}", value, allowed)
        else:
            levels = list(conf.levels) if kind == "ordinal" else list(conf.categories)
            if str(value) not in levels or isinstance(value, bool):
                raise _error(path, f"terms.{issue}", value, f"a level of the scenario: {levels}")
    parties = list(cfg.parties or {})
    for k, party in enumerate(record.signatories):
        if party not in parties:
            raise _error(path, f"signatories[{k}]", party, f"a party of the scenario: {parties}")


def shipped_cases() -> list[Case]:
    """Every shipped case: a record in `validation/`, its scenario in conf/scenario/."""
    return [
        Case(path.stem, Path(CONFIG_DIR), path) for path in sorted(SHIPPED_RECORDS.glob("*.yaml"))
    ]


def folder_cases(folder: Path) -> list[Case]:
    """The cases of a user's folder: each `scenario/<case>.yaml` with its
    `records/<case>.yaml`; a scenario without a record, or a record without a scenario,
    is an error naming the file."""
    key = "cases_dir"
    if not folder.is_dir():
        raise ConfigError(key, str(folder), "a folder holding scenario/ and records/")
    scenarios = {p.stem: p for p in sorted((folder / SCENARIOS).glob("*.yaml"))}
    records = {p.stem: p for p in sorted((folder / RECORDS).glob("*.yaml"))}
    if not scenarios:
        raise ConfigError(key, str(folder), "a folder with scenario/<case>.yaml files")
    for name, path in scenarios.items():
        if name not in records:
            allowed = f"a record file, {_shown(folder / RECORDS / (name + '.yaml'))}"
            raise ConfigError(f"{_shown(path)}: record", None, allowed)
    shipped = Path(CONFIG_DIR) / SCENARIOS
    for name, path in scenarios.items():
        if (shipped / f"{name}.yaml").exists():
            allowed = f"a name no shipped scenario has (conf/scenario/{name}.yaml exists)"
            raise ConfigError(f"{_shown(path)}: case", name, allowed)
    for name, path in records.items():
        if name not in scenarios:
            allowed = f"a scenario file, {_shown(folder / SCENARIOS / (name + '.yaml'))}"
            raise ConfigError(f"{_shown(path)}: scenario", None, allowed)
    return [Case(name, folder, records[name]) for name in scenarios]


def select_cases(cases: list[Case], names: list[str]) -> list[Case]:
    """The cases named (all when `names` is empty); a name with no case is an error."""
    if not names:
        return cases
    known = [c.name for c in cases]
    for name in names:
        if name not in known:
            raise ConfigError("cases", name, f"a case with a record: {known}")
    return [c for c in cases if c.name in names]


def check_unique(cases: list[Case]) -> None:
    """Two cases of one name (a user's case beside a shipped one) would be scored twice."""
    seen: dict[str, Case] = {}
    for case in cases:
        if case.name in seen:
            allowed = "one case per name: rename one, or set shipped=false"
            raise ConfigError(f"{_shown(case.scenario_path)}", case.name, allowed)
        seen[case.name] = case
