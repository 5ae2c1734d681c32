"""The simulation: one company, day by day, writing the rows of every record type."""

from __future__ import annotations

import math
import random
from collections import defaultdict
from datetime import date, timedelta

from lotline.generate.csv_text import _coord
from lotline.generate.local_time import Row, _Window
from lotline.generate.locations import (
    _OWN_LOCATIONS,
    _SUPPLIER_OF,
    _SUPPLIERS,
    _ZONES,
    BRD,
    CHI,
    JOL,
    VNL,
    _customers,
    _market,
)
from lotline.generate.moves import _StockMoves
from lotline.generate.production import _Production
from lotline.generate.products import (
    _P,
    _PRODUCTS,
    _RECIPES,
    _SALES,
    _SALES_OF,
    _SITE_FINISHED,
    _TIN_DOUGH,
)
from lotline.generate.receipts import _Receiving
from lotline.generate.scenario import _COMPANY, _HAMPER_BATCH, _MILLI, HORIZON_DAYS
from lotline.generate.shipments import _Shipping
from lotline.generate.stock import _Inventory
from lotline.gs1 import with_check_digit
from lotline.intake import contract


class _World(_Receiving, _Production, _StockMoves, _Shipping):
    """The day-by-day simulation of the sample company: its state, the day loop and master rows."""

    def __init__(self, seed: int, scale: float, anchor: date) -> None:
        self.rnd = random.Random(seed)
        self.scale = scale
        self.anchor = anchor
        self.start = anchor - timedelta(days=HORIZON_DAYS)
        self.i = 0
        self.inv, self.held, self.quarantine = _Inventory(), _Inventory(), _Inventory()
        self.lot_dates: dict[tuple[str, str], tuple[date, date]] = {}
        self.rows: dict[str, list[Row]] = {name: [] for name in contract.RECORD_TYPES}
        self.counters: dict[str, int] = defaultdict(int)
        self.customers = _customers(min(30, max(5, round(12 * scale**0.6))))
        self.retail = {
            m: [c for c in self.customers if c.segment == "retail" and _market(c) == m]
            for m in ("us", "eu")
        }
        self.industrial = [c for c in self.customers if c.segment == "industrial"]
        self.serial_next = {
            "gift_box": 4_170_000_000 + self.rnd.randrange(10**7),
            "hamper": 100_000 + self.rnd.randrange(10**5),
        }
        self.sscc_next = 100_000_000 + self.rnd.randrange(10**8)
        self.supplier_seq = {s.lot_style: self.rnd.randrange(10_000, 90_000) for s in _SUPPLIERS}
        self.on_order: dict[tuple[str, str], int] = defaultdict(int)
        self.deliveries: dict[tuple[str, int], list[tuple[str, int, str]]] = defaultdict(list)
        self.due_returns: dict[tuple[str, int], list[tuple]] = defaultdict(list)
        self.due_dispositions: dict[tuple[str, int], list[tuple]] = defaultdict(list)
        self.planted_ships: dict[int, list[tuple[str, float]]] = defaultdict(list)
        self.pending_rework: list[tuple[str, int, str]] = []
        self.flags: set[str] = set()
        self.reserve = (
            max(2 * _HAMPER_BATCH, math.ceil(_SALES_OF["hamper"].per_day * scale * 4)) * _MILLI
        )
        self._plan_rates()

    # ids ------------------------------------------------------------------------------------

    def _next(self, name: str) -> int:
        self.counters[name] += 1
        return self.counters[name]

    def _sscc(self, extension: str) -> str:
        self.sscc_next += 1
        return with_check_digit(extension + _COMPANY + f"{self.sscc_next:09d}")

    def _move_id(self) -> str:
        return f"MV{self._next('move'):08d}"

    # planning parameters ----------------------------------------------------------------------

    def _plan_rates(self) -> None:
        """Expected use per day (for purchasing) and run caps, from demand and recipes."""
        per_unit: dict[str, tuple[tuple[str, float], ...]] = {
            k: r.inputs for k, r in _RECIPES.items()
        }
        per_unit["butter_tin"] = (("butter_dough", _TIN_DOUGH),)
        per_unit["crumb"] = ()
        self.usage: dict[tuple[str, str], float] = defaultdict(float)
        self.rate: dict[str, float] = defaultdict(float)

        def explode(pkey: str, rate: float) -> None:
            self.rate[pkey] += rate
            for inp, per in per_unit[pkey]:
                if _P[inp].level == "raw":
                    site = _RECIPES[pkey].site if pkey in _RECIPES else CHI
                    self.usage[(site, inp)] += rate * per * _MILLI
                else:
                    explode(inp, rate * per)

        for s in _SALES:
            explode(
                s.product, s.per_day * self.scale * (HORIZON_DAYS - s.season_start) / HORIZON_DAYS
            )
        self.batch_need = {
            raw: max(
                (r.batch * per for r in _RECIPES.values() for inp, per in r.inputs if inp == raw),
                default=0.0,
            )
            for raw in _SUPPLIER_OF
        }
        self.max_runs = {
            key: max(1, math.ceil(self.rate[key] * 3 * _MILLI / _RECIPES[key].batch))
            for keys in _SITE_FINISHED.values()
            for key in keys
        }

    # the day loop ----------------------------------------------------------------------------

    def run(self) -> None:
        for i in range(HORIZON_DAYS):
            self.i = i
            day = self.start + timedelta(days=i)
            workday = day.weekday() < 5
            for wh in (JOL, VNL):
                self._warehouse_day(wh, day, workday)
            for site in (CHI, BRD):
                self._site_day(site, day, workday)

    def _next_workday(self, i: int) -> int:
        while (self.start + timedelta(days=i)).weekday() >= 5:
            i += 1
        return i

    def _warehouse_day(self, wh: str, day: date, workday: bool) -> None:
        ship, ret, qa = _Window(7, 16, 60), _Window(16.25, 17.25, 60), _Window(17.5, 18.5, 1)
        if workday:
            self._customer_orders(wh, day, ship)
        for r in self.due_returns.pop((wh, self.i), []):
            self._receive_return(wh, day, ret, r)
        if workday:
            for d in self.due_dispositions.pop((wh, self.i), []):
                self._dispose(wh, qa, d)
            if day.weekday() == 0:
                self._sweep_expired(wh, day, qa, "destroy")
            self._warehouse_adjustments(wh, day, qa)
        offset = _ZONES[wh].offset(day)
        for window in (ship, ret, qa):
            window.close(self.rnd, day, offset)

    def _site_day(self, site: str, day: date, workday: bool) -> None:
        rec, shp, prd = _Window(5, 9, 60), _Window(9, 10, 60), _Window(10, 18.5, 1)
        qa, trf = _Window(18.5, 19, 1), _Window(19, 21, 60)
        self._receive(site, day, rec)
        if site == CHI:
            self._site_shipments(day, workday, shp)
        if workday:
            if site == BRD:
                self._rework(day, prd)
            self._produce(site, day, prd)
            if day.weekday() == 0:
                self._sweep_expired(site, day, qa, "scrap")
            self._site_adjustments(site, day, qa)
            self._replenish(site, day)
            self._transfer_out(site, day, trf)
        offset = _ZONES[site].offset(day)
        for window in (rec, shp, prd, qa, trf):
            window.close(self.rnd, day, offset)

    # output -----------------------------------------------------------------------------------

    def master_rows(self) -> None:
        for p in _PRODUCTS:
            self.rows["products"].append(
                [
                    p.gtin,
                    p.name,
                    p.brand,
                    p.commodity,
                    p.variety,
                    p.pack_size,
                    p.pack_uom,
                    p.pack_style,
                    p.tracking,
                    str(p.shelf_life_days),
                    p.uom,
                    p.expiry_kind,
                ]
            )
        locations = [*(s.location for s in _SUPPLIERS), *_OWN_LOCATIONS, *self.customers]
        for loc in locations:
            self.rows["locations"].append(
                [
                    loc.location_id,
                    loc.kind,
                    loc.business_name,
                    loc.gln,
                    loc.phone,
                    loc.street,
                    loc.city,
                    loc.region,
                    loc.postal_code,
                    loc.country,
                    _coord(loc.latitude),
                    _coord(loc.longitude),
                ]
            )
