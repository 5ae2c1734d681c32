"""The fixed parameters of the simulated world: its "today", horizon, company prefix and the
days on which seasonal flows and planted features start."""

from __future__ import annotations

from datetime import date

DEFAULT_ANCHOR = date(2026, 11, 20)
"""The "today" of the generated world: every event happens in the days before it."""
HORIZON_DAYS = 120

_COMPANY = "8719327"  # GS1 company prefix of the fictional Hearthstone Confectionery
_MILLI = 1000  # quantities are simulated as integers in thousandths of the product's unit

# days (index from the first simulated day) when seasonal flows start
_TIN_START = 25
_GIFT_START = 40
_GIFT_TO_CHI_START = 50
_HAMPER_START = 60
_HAMPER_BATCH = 24
_COVER_DAYS = 8  # finished-goods stock target in days of demand
_REWORK_FROM = 15  # first praline run on or after this day is partly reworked (planted cycle)
_CRUMB_HOLD_B_FROM = 40  # first crumb lot on or after this day is held and never released
_RETURN_FROM = 20  # first warehouse shipment line on or after this day comes back (planted)
_FEFO_SLIP_FROM = 30  # first Joliet butter-cookie order on or after this day skips FEFO (planted)
