"""Stock on hand per location and product, lots in first-expiry-first-out order."""

from __future__ import annotations

from datetime import date

from lotline.generate.scenario import _MILLI


class _Entry:
    __slots__ = ("lot", "expiry", "qty", "serials")

    def __init__(self, lot: str, expiry: date, serial: bool) -> None:
        self.lot, self.expiry, self.qty = lot, expiry, 0
        self.serials: list[str] | None = [] if serial else None


Pick = tuple[str, date, int, list[str] | None]  # lot, expiry, milli-units, serials


class _Inventory:
    """Stock per (location, product), lots in first-expiry-first-out order."""

    def __init__(self) -> None:
        self.stock: dict[tuple[str, str], list[_Entry]] = {}
        self.index: dict[tuple[str, str, str], _Entry] = {}

    def entries(self, loc: str, pkey: str) -> list[_Entry]:
        return self.stock.get((loc, pkey), [])

    def get(self, loc: str, pkey: str, lot: str) -> _Entry | None:
        return self.index.get((loc, pkey, lot))

    def add(
        self,
        loc: str,
        pkey: str,
        lot: str,
        expiry: date,
        qty: int,
        serials: list[str] | None = None,
    ) -> None:
        entry = self.index.get((loc, pkey, lot))
        if entry is None:
            entry = _Entry(lot, expiry, serials is not None)
            lst = self.stock.setdefault((loc, pkey), [])
            pos = len(lst)
            while pos > 0 and lst[pos - 1].expiry > expiry:
                pos -= 1
            lst.insert(pos, entry)
            self.index[(loc, pkey, lot)] = entry
        if serials is not None:
            assert entry.serials is not None
            entry.serials.extend(serials)
            qty = len(serials) * _MILLI
        entry.qty += qty

    def _drop_empty(self, loc: str, pkey: str, entry: _Entry) -> None:
        if entry.qty == 0:
            self.stock[(loc, pkey)].remove(entry)
            del self.index[(loc, pkey, entry.lot)]

    def remove(
        self, loc: str, pkey: str, lot: str, qty: int, serials: list[str] | None = None
    ) -> None:
        entry = self.index[(loc, pkey, lot)]
        if serials is not None:
            assert entry.serials is not None
            for s in serials:
                entry.serials.remove(s)
            qty = len(serials) * _MILLI
        if qty > entry.qty:
            raise AssertionError(f"removing {qty} of {entry.qty} ({loc} {pkey} {lot})")
        entry.qty -= qty
        self._drop_empty(loc, pkey, entry)

    def available(self, loc: str, pkey: str, day: date) -> int:
        """Usable stock: lots are used and shipped only before their expiry day."""
        return sum(e.qty for e in self.entries(loc, pkey) if e.expiry > day)

    def take(
        self, loc: str, pkey: str, qty: int, day: date, skip_first: bool = False
    ) -> list[Pick]:
        """Usable stock in FEFO order; `skip_first` leaves the first usable lot (a FEFO slip)."""
        out: list[Pick] = []
        for entry in list(self.entries(loc, pkey)):
            if qty <= 0:
                break
            if entry.expiry <= day:
                continue
            if skip_first:
                skip_first = False
                continue
            q = min(qty, entry.qty)
            serials = None
            if entry.serials is not None:
                n = q // _MILLI
                if n == 0:
                    continue
                serials, q = entry.serials[:n], n * _MILLI
                del entry.serials[:n]
            entry.qty -= q
            qty -= q
            out.append((entry.lot, entry.expiry, q, serials))
            self._drop_empty(loc, pkey, entry)
        return out

    def take_all(self, loc: str, pkey: str, entry: _Entry) -> Pick:
        pick = (
            entry.lot,
            entry.expiry,
            entry.qty,
            list(entry.serials) if entry.serials is not None else None,
        )
        entry.qty = 0
        if entry.serials is not None:
            entry.serials.clear()
        self._drop_empty(loc, pkey, entry)
        return pick
