"""Local times of events: fixed daylight-saving rules, so output never depends on the machine's
tz database, and distinct increasing event times within a location-day."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta


def _nth_sunday(year: int, month: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(6 - first.weekday()) % 7 + 7 * (n - 1))


def _last_sunday(year: int, month: int) -> date:
    last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() + 1) % 7)


@dataclass(frozen=True)
class _Zone:
    rule: str  # "us" (2nd Sun Mar - 1st Sun Nov), "eu" (last Sun Mar - last Sun Oct), "none"
    standard_minutes: int

    def offset(self, day: date) -> str:
        """UTC offset of local times from 05:00 on (all events are; transitions are at night)."""
        y = day.year
        if self.rule == "us":
            dst = _nth_sunday(y, 3, 2) <= day < _nth_sunday(y, 11, 1)
        elif self.rule == "eu":
            dst = _last_sunday(y, 3) <= day < _last_sunday(y, 10)
        else:
            dst = False
        minutes = self.standard_minutes + 60 * dst
        sign = "+" if minutes >= 0 else "-"
        h, m = divmod(abs(minutes), 60)
        return f"{sign}{h:02d}:{m:02d}"


_US_CENTRAL = _Zone("us", -360)
_CET = _Zone("eu", 60)


Row = list[str | None]


class _Window:
    """A time window of one location-day: events get distinct, increasing local times on close."""

    def __init__(self, start_h: float, end_h: float, step_s: int) -> None:
        self.start, self.end, self.step = int(start_h * 3600), int(end_h * 3600), step_s
        self.events: list[list[Row]] = []

    def event(self) -> list[Row]:
        rows: list[Row] = []
        self.events.append(rows)
        return rows

    def close(self, rnd: random.Random, day: date, offset: str) -> None:
        events = [e for e in self.events if e]
        if not events:
            return
        step = self.step
        slots = (self.end - self.start) // step
        if len(events) > slots:
            step, slots = 1, self.end - self.start
        picks = sorted(rnd.sample(range(slots), len(events)))
        for rows, k in zip(events, picks, strict=True):
            t = self.start + k * step
            ts = f"{day.isoformat()}T{t // 3600:02d}:{t // 60 % 60:02d}:{t % 60:02d}{offset}"
            for row in rows:
                row[1] = ts
