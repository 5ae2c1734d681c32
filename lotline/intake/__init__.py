"""Intake: from the files a company already has to validated, stored records.

contract (what a record is) → reading and mapping (any export as contract text) → validation
(Great Expectations suites, each rule an error or a warning) → ingest (one serialised transaction
with corrections kept as history).
"""
