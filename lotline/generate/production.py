"""Production runs and their genealogy: lots, serials, consumption, holds and the rework loop."""

from __future__ import annotations

import math
from datetime import date, timedelta

from lotline.generate.csv_text import _qty
from lotline.generate.local_time import Row, _Window
from lotline.generate.locations import _CODE, BRD, CHI
from lotline.generate.products import (
    _P,
    _RECIPES,
    _SALES,
    _SALES_OF,
    _SITE_FINISHED,
    _STOCK_LOCATIONS,
    _TIN_DOUGH,
    _TIN_PER_RUN,
)
from lotline.generate.scenario import (
    _COVER_DAYS,
    _CRUMB_HOLD_B_FROM,
    _GIFT_TO_CHI_START,
    _HAMPER_START,
    _MILLI,
    _REWORK_FROM,
    _TIN_START,
)
from lotline.generate.stock import Pick


class _Production:
    """Production runs and their genealogy: lots, serials, consumption, holds and the rework loop.

    A part of `world._World` (whose `__init__` sets the state used here), kept apart by job.
    """

    def _new_lot(self, site: str, day: date) -> str:
        run = self._next(f"run {site} {day}")
        return f"{_CODE[site][0]}{day:%y}{day.timetuple().tm_yday:03d}-{run:02d}"

    def _new_serials(self, pkey: str, n: int) -> list[str]:
        start = self.serial_next[pkey]
        self.serial_next[pkey] += n
        if pkey == "hamper":
            return [f"HMP{start + k:07d}" for k in range(n)]
        return [f"{start + k:010d}" for k in range(n)]

    def _target(self, key: str) -> int:
        rate = sum(s.per_day for s in _SALES if s.product == key and self.i >= s.season_start - 7)
        if key == "gift_box" and self.i >= _HAMPER_START - 14:
            rate += _SALES_OF["hamper"].per_day
        return round(rate * self.scale * _COVER_DAYS * _MILLI)

    def _needs_run(self, key: str, day: date) -> bool:
        target = self._target(key)
        stock = sum(self.inv.available(loc, key, day) for loc in _STOCK_LOCATIONS[key])
        if (
            key == "gift_box"
            and self.i >= _GIFT_TO_CHI_START
            and (
                self.inv.available(CHI, key, day) + self.inv.available(BRD, key, day) < self.reserve
            )
        ):
            return True
        return target > 0 and stock < target

    def _produce(self, site: str, day: date, window: _Window) -> None:
        for key in _SITE_FINISHED[site]:
            runs = 0
            while runs < self.max_runs[key] and self._needs_run(key, day):
                if not self._run_finished(site, key, day, window):
                    break
                runs += 1

    def _ensure(
        self, site: str, need: dict[str, int], day: date, window: _Window, depth: int
    ) -> bool:
        """Make intermediates until every need is available; False if materials are short."""
        for pkey, qty in need.items():
            tries, size = 0, None
            short = qty - self.inv.available(site, pkey, day)
            if short > 0 and pkey in _RECIPES and _RECIPES[pkey].to_order:
                batches = math.ceil(short / _RECIPES[pkey].batch)
                size = math.ceil(short / batches / 0.99 / 50_000) * 50_000  # + mixing loss
            while self.inv.available(site, pkey, day) < qty:
                if _P[pkey].level != "intermediate" or depth > 2 or tries > 40:
                    return False
                if not self._run_intermediate(site, pkey, day, window, depth + 1, size):
                    return False
                tries += 1
        return all(self.inv.available(site, p, day) >= q for p, q in need.items())

    def _consume(self, site: str, need: dict[str, int], day: date) -> list[tuple[str, Pick]]:
        used = []
        for pkey, qty in need.items():
            picks = self.inv.take(site, pkey, qty, day)
            if sum(p[2] for p in picks) != qty:
                raise AssertionError(f"short of {pkey} at {site} on {day}")
            used += [(pkey, pick) for pick in picks]
        return used

    def _record(
        self,
        site: str,
        day: date,
        window: _Window,
        outputs: list[tuple[str, int]],
        used: list[tuple[str, Pick]],
        ref_doc_type: str,
        cap_expiry: bool,
    ) -> str:
        """Rows of one transformation; puts the outputs on hand; returns the new lot code."""
        seq = self._next("production " + site)
        production_id = f"{_CODE[site]}-WO-{seq:06d}"
        if ref_doc_type == "prodorder":
            ref_no = f"{1_000_000_000 + 7919 * self._next('prodorder') + seq:010d}"
        else:
            ref_no = f"BR-{_CODE[site]}-{day:%y%m%d}-{seq:04d}"
        lot = self._new_lot(site, day)
        cap = min((pick[1] for _, pick in used), default=None) if cap_expiry else None
        event = window.event()
        for pkey, qty in outputs:
            p = _P[pkey]
            expiry = day + timedelta(days=p.shelf_life_days)
            if cap is not None:
                expiry = min(expiry, cap)
            self.lot_dates[(pkey, lot)] = (day, expiry)
            serials = self._new_serials(pkey, qty // _MILLI) if p.tracking == "serial" else None
            for serial in serials or [None]:
                row: Row = [
                    production_id,
                    None,
                    site,
                    p.gtin,
                    lot,
                    serial,
                    "1" if serial else _qty(qty),
                    p.uom,
                    day.isoformat(),
                    expiry.isoformat(),
                    ref_doc_type,
                    ref_no,
                ]
                event.append(row)
                self.rows["production"].append(row)
            self.inv.add(site, pkey, lot, expiry, qty, serials)
        self._consumption_rows(production_id, used)
        return lot

    def _consumption_rows(self, production_id: str, used: list[tuple[str, Pick]]) -> None:
        total: dict[tuple[str, str, str | None], int] = {}
        for pkey, (lot, _exp, qty, serials) in used:
            if serials is not None:
                for s in serials:
                    total[(pkey, lot, s)] = _MILLI
            else:
                total[(pkey, lot, None)] = total.get((pkey, lot, None), 0) + qty
        for (pkey, lot, serial), qty in total.items():
            p = _P[pkey]
            self.rows["consumption"].append([production_id, p.gtin, lot, serial, _qty(qty), p.uom])

    def _run_intermediate(
        self, site: str, pkey: str, day: date, window: _Window, depth: int, size: int | None = None
    ) -> bool:
        recipe = _RECIPES[pkey]
        size = size or recipe.batch
        need = {inp: round(size * per) for inp, per in recipe.inputs}
        if not self._ensure(site, need, day, window, depth):
            return False
        used = self._consume(site, need, day)
        # mixing loses a little; the batch is what comes out, so the next bake may be short
        out = round(size * self.rnd.uniform(0.99, 0.999) / 100) * 100
        self._record(site, day, window, [(pkey, out)], used, recipe.ref_doc_type, recipe.cap_expiry)
        return True

    def _run_finished(self, site: str, key: str, day: date, window: _Window) -> bool:
        recipe = _RECIPES[key]
        planned = recipe.batch
        if key == "hamper":
            planned = (
                min(
                    planned,
                    self.inv.available(site, "gift_box", day),
                    self.inv.available(site, "butter_tin", day),
                )
                // _MILLI
                * _MILLI
            )
            if planned < 6 * _MILLI:
                return False
        need: dict[str, int] = {}
        for inp, per in recipe.inputs:
            need[inp] = need.get(inp, 0) + round(planned * per)
        tins = key == "butter_cookies" and self.i >= _TIN_START
        if tins:
            need["butter_dough"] += round(_TIN_PER_RUN * _TIN_DOUGH)
        if not self._ensure(site, need, day, window, 0):
            return False
        used = self._consume(site, need, day)
        if _P[key].tracking == "serial":
            made = planned
        else:
            made = math.floor(planned / _MILLI * self.rnd.uniform(0.97, 1.0)) * _MILLI
        outputs = [(key, made)]
        if tins:
            outputs.append(("butter_tin", math.floor(600 * self.rnd.uniform(0.97, 1.0)) * _MILLI))
        crumb = 0
        if key == "chip_cookies":
            crumb = max(20, round(planned / _MILLI * self.rnd.uniform(0.06, 0.11) / 10) * 10)
            outputs.append(("crumb", crumb * _MILLI))
        lot = self._record(site, day, window, outputs, used, recipe.ref_doc_type, recipe.cap_expiry)
        if crumb:
            self._maybe_hold_crumb(lot, crumb * _MILLI, window)
        if key == "pralines":
            self._maybe_rework(lot, made, used)
        return True

    def _status(
        self,
        window: _Window,
        pkey: str,
        lot: str,
        serial: str | None,
        status: str,
        actor: str,
        reason: str | None,
    ) -> None:
        """A hold, quarantine, release or recall decision, recorded as its own event."""
        row: Row = [
            f"ST-{self._next('status'):05d}",
            None,
            _P[pkey].gtin,
            lot,
            serial,
            status,
            actor,
            reason,
            None,
            None,
        ]
        window.event().append(row)
        self.rows["status"].append(row)

    def _maybe_hold_crumb(self, lot: str, qty: int, window: _Window) -> None:
        """PLANTED: the first crumb lot goes on QA hold and is shipped on and after its expiry
        day; the first one from day `_CRUMB_HOLD_B_FROM` is held and never released."""
        hold_a = "crumb hold A" not in self.flags
        hold_b = not hold_a and "crumb hold B" not in self.flags and self.i >= _CRUMB_HOLD_B_FROM
        if not (hold_a or hold_b):
            return
        self.flags.add("crumb hold A" if hold_a else "crumb hold B")
        self._status(window, "crumb", lot, None, "hold", "QA Chicago", "moisture above spec")
        self.inv.remove(CHI, "crumb", lot, qty)
        expiry = self.lot_dates[("crumb", lot)][1]
        self.held.add(CHI, "crumb", lot, expiry, qty)
        if hold_a:
            at = (expiry - self.start).days
            self.planted_ships[at].append((lot, 0.5))
            self.planted_ships[at + 6].append((lot, 0.5))

    def _maybe_rework(self, lot: str, made: int, used: list[tuple[str, Pick]]) -> None:
        """PLANTED: mis-wrapped pralines are held and, on the next workday, melted back into the
        praline-filling lot they were made from (same GTIN and lot): a cycle in the lot graph."""
        planted = "rework" not in self.flags and self.i >= _REWORK_FROM
        if not planted and ("rework" not in self.flags or self.rnd.random() >= 0.08):
            return
        self.flags.add("rework")
        cases = min(self.rnd.randint(4, 12), made // _MILLI - 1)
        filling = next(pick[0] for pkey, pick in used if pkey == "filling")
        self.inv.remove(BRD, "pralines", lot, cases * _MILLI)
        self.held.add(BRD, "pralines", lot, self.lot_dates[("pralines", lot)][1], cases * _MILLI)
        self.pending_rework.append((lot, cases * _MILLI, filling))

    def _rework(self, day: date, window: _Window) -> None:
        for lot, qty, filling in self.pending_rework:
            self.held.remove(BRD, "pralines", lot, qty)
            made, expiry = self.lot_dates[("filling", filling)]
            out = qty // _MILLI * 1_900  # 1.9 kg of filling recovered per case
            production_id = f"BRD-RW-{self._next('rework'):04d}"
            p, f = _P["filling"], _P["pralines"]
            row: Row = [
                production_id,
                None,
                BRD,
                p.gtin,
                filling,
                None,
                _qty(out),
                p.uom,
                made.isoformat(),
                expiry.isoformat(),
                "batch_record",
                f"RW-{day:%y%m%d}-{self.counters['rework']:03d}",
            ]
            window.event().append(row)
            self.rows["production"].append(row)
            self.rows["consumption"].append([production_id, f.gtin, lot, None, _qty(qty), f.uom])
            self.inv.add(BRD, "filling", filling, expiry, out)
        self.pending_rework = []
