"""Shipments to customers (orders, FEFO picks, pallets), returns and their disposition."""

from __future__ import annotations

from datetime import date

from lotline.generate.chance import _poisson
from lotline.generate.csv_text import _qty
from lotline.generate.local_time import Row, _Window
from lotline.generate.locations import _CODE, CHI, JOL, VNL, _Location
from lotline.generate.products import _P, _SALES, _SALES_OF
from lotline.generate.scenario import _FEFO_SLIP_FROM, _MILLI, _RETURN_FROM, HORIZON_DAYS
from lotline.generate.stock import Pick


class _Shipping:
    """Shipments to customers (orders, FEFO picks, pallets), returns and their disposition.

    A part of `world._World` (whose `__init__` sets the state used here), kept apart by job.
    """

    def _ship(
        self,
        src: str,
        customer: _Location,
        day: date,
        window: _Window,
        picks: list[tuple[str, Pick]],
        returns_ok: bool,
    ) -> None:
        if not picks:
            return
        shipment_id = f"SH-{_CODE[src]}-{self._next('shipment ' + src):06d}"
        n = self._next("ship doc")
        if src == VNL:
            ref_type = "desadv" if self.rnd.random() < 0.85 else "inv"
        else:
            ref_type = "bol" if self.rnd.random() < 0.85 else "inv"
        ref_no = {
            "bol": f"BOL-{_CODE[src]}-{day:%y}{n:06d}",
            "desadv": f"DESADV{day:%y}{n:07d}",
            "inv": f"INV-{day:%y}-{n:06d}",
        }[ref_type]
        extension = {JOL: "0", VNL: "1", CHI: "2"}[src]
        rows = window.event()
        pallets: dict[str, list] = {}  # product -> [sscc, room left]
        for pkey, (lot, expiry, qty, serials) in picks:
            p, pallet = _P[pkey], _SALES_OF[pkey].pallet * _MILLI
            chunks: list[tuple[str | None, int]] = (
                [(s, _MILLI) for s in serials] if serials is not None else [(None, qty)]
            )
            for serial, amount in chunks:
                left = amount
                while left > 0:
                    current = pallets.get(pkey)
                    if current is None or current[1] <= 0:
                        current = pallets[pkey] = [self._sscc(extension), pallet]
                    part = min(left, current[1])
                    current[1] -= part
                    left -= part
                    row: Row = [
                        shipment_id,
                        None,
                        src,
                        customer.location_id,
                        p.gtin,
                        lot,
                        serial,
                        current[0],
                        "1" if serial else _qty(part),
                        p.uom,
                        ref_type,
                        ref_no,
                    ]
                    rows.append(row)
                    self.rows["shipments"].append(row)
                    if returns_ok:
                        self._maybe_return(src, customer, pkey, lot, expiry, part, serial)

    def _maybe_return(
        self,
        wh: str,
        customer: _Location,
        pkey: str,
        lot: str,
        expiry: date,
        qty: int,
        serial: str | None,
    ) -> None:
        planted = "return" not in self.flags and self.i >= _RETURN_FROM
        if not planted and self.rnd.random() >= 0.02:
            return
        back = self._next_workday(self.i + self.rnd.randint(3, 12))
        if back >= HORIZON_DAYS:
            return
        self.flags.add("return")
        if serial is None:
            units = qty // _MILLI
            qty = max(1, round(units * self.rnd.uniform(0.02, 0.15))) * _MILLI
        self.due_returns[(wh, back)].append((customer.location_id, pkey, lot, expiry, qty, serial))

    def _receive_return(self, wh: str, day: date, window: _Window, ret: tuple) -> None:
        customer, pkey, lot, expiry, qty, serial = ret
        serials = [serial] if serial else None
        self.quarantine.add(wh, pkey, lot, expiry, qty, serials)
        pick: Pick = (lot, expiry, qty, serials)
        self._move_rows(window.event(), self._move_id(), pkey, pick, customer, wh, "return")
        # returned serials are quarantined one by one; a returned lot quantity is kept apart by
        # location (the quarantine area), not by a lot status that would hold the whole lot
        for unit in serials or []:
            self._status(window, pkey, lot, unit, "quarantine", f"QA {wh}", "customer return")
        when = self._next_workday(self.i + self.rnd.randint(2, 5))
        destroy = self.rnd.random() < 0.7
        self.due_dispositions[(wh, when)].append((pkey, pick, destroy))

    def _dispose(self, wh: str, window: _Window, disposition: tuple) -> None:
        """Returned stock leaves quarantine: destroyed, or put back into usable stock."""
        pkey, pick, destroy = disposition
        lot, expiry, qty, serials = pick
        self.quarantine.remove(wh, pkey, lot, qty, serials)
        if destroy:
            self._move_rows(window.event(), self._move_id(), pkey, pick, wh, None, "destroy")
        else:
            for unit in serials or []:
                self._status(window, pkey, lot, unit, "release", f"QA {wh}", "inspected, intact")
            self.inv.add(wh, pkey, lot, expiry, qty, serials)

    def _customer_orders(self, wh: str, day: date, window: _Window) -> None:
        market = "us" if wh == JOL else "eu"
        customers = self.retail[market]
        if not customers:
            return
        sales = [s for s in _SALES if s.market == market and self.i >= s.season_start]
        # PLANTED: the first customer of the market places a season-launch order as soon as a
        # seasonal product is in the warehouse, so serialised goods ship at every scale
        launch = [
            s.product
            for s in sales
            if s.season_start > 0
            and f"launch {s.product}" not in self.flags
            and self.inv.available(wh, s.product, day) > 0
        ]
        self.flags.update(f"launch {p}" for p in launch)
        for k, customer in enumerate(customers):
            picks: list[tuple[str, Pick]] = []
            for s in sales:
                mean = s.step * (s.steps[0] + s.steps[1]) / 2
                lam = s.per_day * self.scale * 7 / 5 / (len(customers) * mean)
                units = sum(
                    s.step * self.rnd.randint(*s.steps) for _ in range(_poisson(self.rnd, lam))
                )
                if k == 0 and s.product in launch:
                    units += s.step * s.steps[1]
                if units:
                    picks += [
                        (s.product, pick) for pick in self._pick(wh, s.product, units * _MILLI, day)
                    ]
            self._ship(wh, customer, day, window, picks, returns_ok=True)

    def _pick(self, wh: str, pkey: str, qty: int, day: date) -> list[Pick]:
        """FEFO picking. PLANTED: the first Joliet butter-cookie line from day `_FEFO_SLIP_FROM`
        on takes a newer lot first while an older usable one stays on hand (a FEFO violation)."""
        slip = (
            wh == JOL
            and pkey == "butter_cookies"
            and self.i >= _FEFO_SLIP_FROM
            and "fefo slip" not in self.flags
        )
        picks = self.inv.take(wh, pkey, qty, day, skip_first=True) if slip else []
        if picks:
            self.flags.add("fefo slip")
        rest = qty - sum(p[2] for p in picks)
        return picks + (self.inv.take(wh, pkey, rest, day) if rest > 0 else [])

    def _site_shipments(self, day: date, workday: bool, window: _Window) -> None:
        """Bulk crumb goes straight from the bakery to industrial customers."""
        for lot, share in self.planted_ships.pop(self.i, []):
            # PLANTED: held crumb released by mistake, shipped on / after its expiry day
            entry = self.held.get(CHI, "crumb", lot)
            if entry is None or not self.industrial:
                continue
            qty = min(entry.qty, max(10, int(entry.qty / _MILLI * share) // 10 * 10) * _MILLI)
            self.held.remove(CHI, "crumb", lot, qty)
            pick: Pick = (lot, entry.expiry, qty, None)
            self._ship(CHI, self.industrial[0], day, window, [("crumb", pick)], returns_ok=False)
        if not workday:
            return
        s = _SALES_OF["crumb"]
        for k, customer in enumerate(self.industrial):
            if day.weekday() != (1 if k % 2 == 0 else 3):
                continue
            kg = s.per_day * self.scale * 7 / len(self.industrial) * self.rnd.uniform(0.7, 1.3)
            units = max(1, round(kg / s.step)) * s.step
            picks = [("crumb", pick) for pick in self.inv.take(CHI, "crumb", units * _MILLI, day)]
            self._ship(CHI, customer, day, window, picks, returns_ok=False)
