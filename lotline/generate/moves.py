"""Stock moves: transfers between own locations, expiry sweeps, count adjustments and scrap."""

from __future__ import annotations

from datetime import date

from lotline.generate.chance import _poisson
from lotline.generate.csv_text import _qty
from lotline.generate.local_time import Row, _Window
from lotline.generate.locations import CHI, JOL, VNL
from lotline.generate.products import _P, _PRODUCTS
from lotline.generate.scenario import _GIFT_TO_CHI_START, _MILLI
from lotline.generate.stock import Pick


class _StockMoves:
    """Stock moves: transfers between own locations, expiry sweeps, count adjustments and scrap.

    A part of `world._World` (whose `__init__` sets the state used here), kept apart by job.
    """

    def _move_rows(
        self,
        rows: list[Row],
        move_id: str,
        pkey: str,
        pick: Pick,
        src: str | None,
        dst: str | None,
        reason: str,
    ) -> None:
        lot, _exp, qty, serials = pick
        p = _P[pkey]
        for serial in serials or [None]:
            row: Row = [
                move_id,
                None,
                p.gtin,
                lot,
                serial,
                "1" if serial else _qty(qty),
                p.uom,
                src,
                dst,
                reason,
            ]
            rows.append(row)
            self.rows["moves"].append(row)

    def _transfer_out(self, site: str, day: date, window: _Window) -> None:
        events: dict[str, tuple[str, list[Row]]] = {}

        def send(pkey: str, dst: str, qty: int) -> None:
            if qty <= 0:
                return
            picks = self.inv.take(site, pkey, qty, day)
            if not picks:
                return
            if dst not in events:
                events[dst] = (self._move_id(), window.event())
            move_id, rows = events[dst]
            for pick in picks:
                self.inv.add(dst, pkey, pick[0], pick[1], pick[2], pick[3])
                self._move_rows(rows, move_id, pkey, pick, site, dst, "transfer")

        if site == CHI:
            for pkey in ("butter_cookies", "chip_cookies", "hamper"):
                send(pkey, JOL, self.inv.available(site, pkey, day))
            send("butter_tin", JOL, self.inv.available(site, "butter_tin", day) - self.reserve)
        else:
            for pkey in ("bars", "pralines"):
                send(pkey, VNL, self.inv.available(site, pkey, day))
            if self.i >= _GIFT_TO_CHI_START:
                send("gift_box", CHI, self.reserve - self.inv.available(CHI, "gift_box", day))
            send("gift_box", VNL, self.inv.available(site, "gift_box", day))

    def _sweep_expired(self, loc: str, day: date, window: _Window, reason: str) -> None:
        """Weekly QA: write off what expired (held stock stays where it is)."""
        move_id, rows = None, None
        for p in _PRODUCTS:
            for entry in list(self.inv.entries(loc, p.key)):
                if entry.expiry > day:
                    continue
                if move_id is None:
                    move_id, rows = self._move_id(), window.event()
                assert rows is not None
                pick = self.inv.take_all(loc, p.key, entry)
                self._move_rows(rows, move_id, p.key, pick, loc, None, reason)

    def _adjust(
        self,
        loc: str,
        day: date,
        window: _Window,
        kinds: tuple[str, ...],
        sign: int,
        reason: str,
        step: int,
        most: int,
    ) -> bool:
        """One stock-count adjustment (sign +1/-1) or damage scrap on a random usable lot."""
        candidates = [
            (p.key, e)
            for p in _PRODUCTS
            if p.level in kinds and p.tracking == "lot"
            for e in self.inv.entries(loc, p.key)
            if e.expiry > day and e.qty >= step
        ]
        if not candidates:
            return False
        pkey, entry = self.rnd.choice(candidates)
        qty = min(self.rnd.randint(1, most) * step, entry.qty)
        pick: Pick = (entry.lot, entry.expiry, qty, None)
        if sign > 0:
            self.inv.add(loc, pkey, entry.lot, entry.expiry, qty)
            src, dst = None, loc
        else:
            self.inv.remove(loc, pkey, entry.lot, qty)
            src, dst = loc, None
        self._move_rows(window.event(), self._move_id(), pkey, pick, src, dst, reason)
        return True

    def _warehouse_adjustments(self, wh: str, day: date, window: _Window) -> None:
        n_adjust = _poisson(self.rnd, 0.06 * self.scale)
        n_scrap = _poisson(self.rnd, 0.04 * self.scale)
        forced = f"adjust {wh}"
        # PLANTED: one count adjustment per warehouse, positive at JOL and negative at VNL
        if (
            forced not in self.flags
            and self.i >= 12
            and self._adjust(
                wh, day, window, ("finished",), 1 if wh == JOL else -1, "adjustment", _MILLI, 3
            )
        ):
            self.flags.add(forced)
        for _ in range(n_adjust):
            sign = 1 if self.rnd.random() < 0.4 else -1
            self._adjust(wh, day, window, ("finished",), sign, "adjustment", _MILLI, 3)
        if f"scrap {wh}" not in self.flags and self.i >= 16:
            n_scrap += 1
            self.flags.add(f"scrap {wh}")
        for _ in range(n_scrap):
            self._adjust(wh, day, window, ("finished",), -1, "scrap", _MILLI, 4)

    def _site_adjustments(self, site: str, day: date, window: _Window) -> None:
        for _ in range(_poisson(self.rnd, 0.03 * self.scale)):
            sign = 1 if self.rnd.random() < 0.5 else -1
            self._adjust(site, day, window, ("raw",), sign, "adjustment", 100, 40)
