"""The Dagster code location: everything under `pipelines/defs/`, loaded in one place.

Every run executes its steps in one process (`in_process_executor`), the `ingest` job and
"Materialize" from the asset graph alike: the steps of a load run one after the other anyway
(one database writer), and a process per step paid the imports once per step (see
`pipelines.defs.automation`).
"""

from pathlib import Path

import dagster as dg


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions.merge(
        dg.load_from_defs_folder(path_within_project=Path(__file__).parent),
        dg.Definitions(executor=dg.in_process_executor),
    )
