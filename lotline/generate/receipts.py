"""Raw-material purchasing: replenishment, supplier lot codes and receipts."""

from __future__ import annotations

import math
from datetime import date, timedelta

from lotline.generate.csv_text import _qty
from lotline.generate.local_time import Row, _Window
from lotline.generate.locations import _CODE, _SITE_RAWS, _SUPPLIER_OF, _Supplier
from lotline.generate.products import _P, _RAW_AGE, _RAW_COVER_DAYS


class _Receiving:
    """Raw-material purchasing: replenishment, supplier lot codes and receipts.

    A part of `world._World` (whose `__init__` sets the state used here), kept apart by job.
    """

    def _replenish(self, site: str, day: date) -> None:
        for raw in _SITE_RAWS[site]:
            supplier = _SUPPLIER_OF[raw]
            lo, hi = supplier.lead_days
            use = self.usage[(site, raw)]
            pack = _P[raw].order_pack
            reorder_point = max(use * (hi + 5), self.batch_need[raw] * 1.5)
            cover = _RAW_COVER_DAYS.get(raw, 21)
            # one purchase order is at most a truckload (about 24 t)
            qty = math.ceil(max(use * cover, self.batch_need[raw] * 2) / pack) * pack
            qty = min(qty, max(1, 24_000_000 // pack) * pack)
            lead = lo if self.i == 0 else self.rnd.randint(lo, hi)
            for _ in range(20):
                projected = self.inv.available(site, raw, day) + self.on_order[(site, raw)]
                if projected >= reorder_point:
                    break
                arrival = self._next_workday(self.i + lead)
                self.on_order[(site, raw)] += qty
                po = f"4500{self._next('po'):06d}"
                self.deliveries[(site, arrival)].append((raw, qty, po))

    def _supplier_lot(self, supplier: _Supplier, raw: str, made: date) -> str:
        style, yy, doy = supplier.lot_style, made.year % 100, made.timetuple().tm_yday
        for n in range(1, 100):
            if style == "prairie":
                code = f"PM{yy}{doy:03d}{chr(64 + n)}"
            elif style == "gldairy":  # one code per packing day and line, whatever the product
                code = f"L{yy}{doy:03d}{n}"
            elif style == "cacao":
                self.supplier_seq[style] += self.rnd.randint(3, 40)
                code = f"CDS-{self.supplier_seq[style]:05d}"
            elif style == "nordstern":
                code = f"NS{made:%y%m%d}-{n:02d}"
            elif style == "nocciole":
                self.supplier_seq[style] += self.rnd.randint(1, 9)
                code = f"TG{yy}-{self.supplier_seq[style] % 10_000:04d}"
            else:
                self.supplier_seq[style] += self.rnd.randint(20, 400)
                code = f"FZ{self.supplier_seq[style]:07d}"
            if (raw, code) not in self.lot_dates:
                return code
        raise RuntimeError("no free supplier lot code")

    def _receive(self, site: str, day: date, window: _Window) -> None:
        due = self.deliveries.pop((site, self.i), [])
        by_supplier: dict[str, list[tuple[str, int, str]]] = {}
        for line in due:
            by_supplier.setdefault(_SUPPLIER_OF[line[0]].location.location_id, []).append(line)
        for lines in by_supplier.values():
            supplier = _SUPPLIER_OF[lines[0][0]]
            sup = supplier.location
            receipt_id = f"GR-{_CODE[site]}-{self._next('receipt'):06d}"
            if supplier.ref_doc_type == "po":
                ref_type, ref_no = "po", lines[0][2]
            else:
                ref_type = "desadv"
                ref_no = f"{sup.location_id[4:7]}-ASN-{self._next('asn_' + sup.location_id):05d}"
            packed = day - timedelta(days=self.rnd.randint(1, 2))  # one packing day per delivery
            event = window.event()
            for raw, qty, _po in lines:
                self.on_order[(site, raw)] -= qty
                pack = _P[raw].order_pack
                packs = qty // pack
                parts = [qty]
                if packs >= 2 and self.rnd.random() < 0.25:  # delivered as two lots
                    first = self.rnd.randint(1, packs - 1) * pack
                    parts = [first, qty - first]
                for part in parts:
                    if supplier.lot_style == "gldairy":
                        made = packed
                    else:
                        made = day - timedelta(days=self.rnd.randint(*_RAW_AGE[raw]))
                    lot = self._supplier_lot(supplier, raw, made)
                    expiry = made + timedelta(days=_P[raw].shelf_life_days)
                    self.lot_dates[(raw, lot)] = (made, expiry)
                    self.inv.add(site, raw, lot, expiry, part)
                    p = _P[raw]
                    row: Row = [
                        receipt_id,
                        None,
                        sup.location_id,
                        site,
                        p.gtin,
                        lot,
                        None,
                        _qty(part),
                        p.uom,
                        made.isoformat(),
                        expiry.isoformat(),
                        sup.gln,
                        ref_type,
                        ref_no,
                    ]
                    event.append(row)
                    self.rows["receipts"].append(row)
