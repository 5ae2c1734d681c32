"""Every notebook runs from top to bottom on the demo database and draws its plots.

Each notebook is executed once, here,
with `demo_dir` set to a demo database built once for the module, the way a notebook builds it
on first use without `LOTLINE_DATABASE_URL`; the outputs are then read back: images
(`image/png`, `image/svg+xml`), the line saying which database it used, no error.
"""

from __future__ import annotations

from pathlib import Path

import jupytext
import nbformat
import pytest
import sqlalchemy as sa
from nbclient import NotebookClient

from lotline import api, demo, store

NOTEBOOKS = Path(__file__).parents[2] / "notebooks"
MIN_IMAGES = {"recall_investigation": 4, "expiry_and_fefo": 3, "data_quality": 3}
"""Images each notebook draws on the demo data (the recall: lineage diagram as SVG, exposure,
weekly shipments, consignee map)."""
IMAGE_TYPES = ("image/png", "image/svg+xml")
TIMEOUT_S = 120


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo")
    demo.demo_database(folder)
    return folder


def _with_parameters(notebook: nbformat.NotebookNode, **values: object) -> None:
    """Insert a cell after the one tagged `parameters` that sets `values` (as papermill does)."""
    for index, cell in enumerate(notebook.cells):
        if "parameters" in cell.metadata.get("tags", []):
            source = "\n".join(f"{name} = {value!r}" for name, value in values.items())
            notebook.cells.insert(index + 1, nbformat.v4.new_code_cell(source))
            return
    raise AssertionError("the notebook has no cell tagged 'parameters'")


def _outputs(notebook: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [out for cell in notebook.cells if cell.cell_type == "code" for out in cell.outputs]


def test_every_notebook_is_covered_and_paired() -> None:
    names = sorted(path.stem for path in NOTEBOOKS.glob("*.ipynb"))
    assert names == sorted(MIN_IMAGES)
    for name in names:  # the .py (reviewed in diffs) and the .ipynb (opened in Jupyter) agree
        paired = jupytext.read(NOTEBOOKS / f"{name}.py")
        stored = jupytext.read(NOTEBOOKS / f"{name}.ipynb")
        assert [c.source for c in paired.cells] == [c.source for c in stored.cells], name


@pytest.mark.parametrize("name", sorted(MIN_IMAGES))
def test_notebook_runs_and_draws(
    name: str, demo_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LOTLINE_DATABASE_URL", raising=False)  # the kernel inherits the env
    notebook = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    _with_parameters(notebook, demo_dir=str(demo_dir))
    client = NotebookClient(
        notebook,
        timeout=TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    client.execute()

    outputs = _outputs(notebook)
    assert not [out for out in outputs if out.output_type == "error"]
    images = [out for out in outputs if any(kind in out.get("data", {}) for kind in IMAGE_TYPES)]
    assert len(images) >= MIN_IMAGES[name], f"{name}: {len(images)} images"
    if name == "recall_investigation":
        svgs = [out.data["image/svg+xml"] for out in images if "image/svg+xml" in out.data]
        assert svgs and "<svg" in svgs[0]  # the lineage diagram
    printed = "".join(out.get("text", "") for out in outputs if out.output_type == "stream")
    url = store.sqlite_url(demo_dir / "lotline.sqlite")
    assert f"database: {url} (demo database in {demo_dir.resolve()})" in printed


def test_the_demo_database_is_built_once(demo_dir: Path) -> None:
    url = demo.demo_database(demo_dir)  # again: reused, not reloaded
    engine = sa.create_engine(url)
    try:
        assert api.loads(engine)["load_id"].n_unique() == 1
        assert (demo_dir / "drop" / "shipments.csv").is_file()
    finally:
        engine.dispose()
