"""The portal's query functions on the small supply chain: search, the lot page, keyset browsing,
CSV export and the document file check."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

from lotline import store
from lotline.portal import queries

COOKIES, DOUGH = "00614141000043", "00614141000036"


@pytest.fixture(scope="module")
def engine(small_database: str) -> sa.Engine:
    return store.make_engine(small_database)


def kinds(hits: list[queries.Hit]) -> set[tuple[str, str]]:
    return {(h.kind, h.label) for h in hits}


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        (COOKIES, {("lot", "C1"), ("lot", "C2"), ("product", "Butter cookies 12x200g")}),
        ("614141000043", {("lot", "C1"), ("lot", "C2")}),  # a GTIN-12 as printed
        ("C1", {("lot", "C1")}),
        ("D", {("lot", "D1"), ("lot", "D2"), ("lot", "D3"), ("lot", "D4")}),  # a prefix
        ("T1-0002", {("serial", "T1-0002")}),
        ("306141410000000020", {("sscc", "306141410000000020")}),
        ("SH2", {("shipment", "SH2")}),
        ("R3", {("receipt", "R3")}),
        ("CUST-A", {("location", "Corner Grocer Inc")}),
        ("megamart", {("location", "MegaMart Distribution")}),
        ("Prairie Mill", {("location", "Prairie Mill Co")}),
    ],
)
def test_search_finds_each_identifier_kind(engine: sa.Engine, q: str, expected: set) -> None:
    assert expected <= kinds(queries.search(engine, q))


def test_search_hits_link_to_the_lot_page_and_filtered_tables(engine: sa.Engine) -> None:
    hits = {h.kind: h for h in queries.search(engine, "T1-0001")}
    assert hits["serial"].url == "/lots/00614141000050/T1"
    customer = queries.search(engine, "CUST-B")[0]
    assert customer.url == "/tables/lot_shipment?to_location_id=CUST-B"
    supplier = queries.search(engine, "SUP-MILL")[0]
    assert supplier.url == "/tables/lot_receipt?from_location_id=SUP-MILL"


@pytest.mark.parametrize(
    "scan",
    [
        f"https://id.gs1.org/01/{COOKIES}/10/C2",  # GS1 Digital Link
        f"(01){COOKIES}(10)C2",  # element string as printed
        f"]d201{COOKIES}10C2",  # a scanner's raw data with its symbology identifier
    ],
)
def test_search_reads_a_scan_or_digital_link(engine: sa.Engine, scan: str) -> None:
    hits = queries.search(engine, scan)
    assert [h.url for h in hits if h.kind == "lot"] == [f"/lots/{COOKIES}/C2"]


def test_search_reads_an_sscc_digital_link(engine: sa.Engine) -> None:
    hits = queries.search(engine, "https://id.gs1.org/00/306141410000000013")
    assert ("sscc", "306141410000000013") in kinds(hits)


@pytest.mark.parametrize(
    "q", ["' OR 1=1 --", '"; DROP TABLE lot; --', "%", "_", "\\", "C1' --", "<script>x</script>"]
)
def test_search_injection_is_only_data(engine: sa.Engine, q: str) -> None:
    before = queries.counts(engine)
    hits = queries.search(engine, q)
    assert all(q.split("'")[0].strip() in h.label or h.kind == "location" for h in hits) or not hits
    assert not [h for h in hits if h.kind == "lot"]  # no lot code contains these characters
    assert queries.counts(engine) == before


def test_search_is_bounded(engine: sa.Engine) -> None:
    assert len([h for h in queries.search(engine, "", 1)]) == 0
    assert len([h for h in queries.search(engine, "D", limit=2) if h.kind == "lot"]) == 2


def test_lot_page_has_both_directions_with_quantities_and_the_diagram(engine: sa.Engine) -> None:
    page = queries.lot_page(engine, DOUGH, "D1")
    backward = {(r["lot"], r["depth"]) for r in page.backward.rows}
    forward = {(r["lot"], r["depth"]) for r in page.forward.rows}
    assert {("F1", 1), ("S1", 1)} <= backward
    assert ("C1", 1) in forward
    assert page.backward.total == len(page.backward.rows)
    inputs = {r["lot"]: r["input_quantity"] for r in page.inputs}
    assert inputs == {"F1": 400.0, "S1": 200.0}
    exposure = {r["lot"]: r["exposure"] for r in page.backward.rows}
    assert exposure["F1"] == pytest.approx(400 / 600)
    assert page.diagram is not None and page.diagram.startswith("<svg")
    assert ">lot D1 · 600 KGM<" in page.diagram and ">lot F1 · 1,000 KGM<" in page.diagram
    assert "<script" not in page.diagram
    assert page.mass_balance is not None and page.mass_balance["status"]
    assert page.lot["expiry_date"].isoformat() == "2026-09-15"
    production = next(e for e in page.events if e.kind == "production")
    assert production.total == 1 and production.rows[0]["production_id"] == "P1"
    consumption = next(e for e in page.events if e.kind == "consumption")
    assert [r["production_id"] for r in consumption.rows] == ["P3"]  # D1 went into C1


def test_lot_page_distribution_counts_the_whole_forward_scope(engine: sa.Engine) -> None:
    page = queries.lot_page(engine, DOUGH, "D1", diagram=False)
    c1 = queries.lot_page(engine, COOKIES, "C1", diagram=False)
    # C1's own shipments SH1, SH2 and SH3 of the gift tin T1 made from it
    assert c1.distribution["shipments"] == 3 and c1.distribution["consignees"] == 2
    assert {q["uom"]: q["quantity"] for q in c1.distribution["quantity"]} == {"CS": 80, "EA": 1}
    assert page.distribution["lines"] >= c1.distribution["lines"]
    assert {c["to_location_id"] for c in c1.distribution["top_consignees"]} == {"CUST-A", "CUST-B"}
    shipments = next(e for e in c1.events if e.kind == "shipments")
    assert {r["shipment_id"] for r in shipments.rows} == {"SH1", "SH2"}


def test_lot_page_lists_the_nearest_lots_but_counts_all(
    engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    full = queries.lot_page(engine, COOKIES, "C1", diagram=False)
    monkeypatch.setattr(queries, "GENEALOGY_ROWS", 2)
    monkeypatch.setattr(queries, "DIAGRAM_LOTS", 1)
    capped = queries.lot_page(engine, COOKIES, "C1")
    assert capped.backward.total == full.backward.total > 2
    assert len(capped.backward.rows) == 2
    assert [r["depth"] for r in capped.backward.rows] == [1, 1]
    assert capped.diagram is not None and "nearest 1 lots" in (capped.diagram_note or "")


def test_lot_page_lists_the_epcis_associations_and_transactions_of_the_lot(
    tmp_path: Path,
) -> None:
    import shutil

    from lotline.intake.ingest import load_folder

    fixture = (
        Path(__file__).parents[2] / "data/epcis/handwritten/association_and_transaction.jsonld"
    )
    (tmp_path / "drop").mkdir()
    shutil.copy(fixture, tmp_path / "drop")
    engine = store.make_engine(store.sqlite_url(tmp_path / "lotline.sqlite"))
    load_folder(engine, tmp_path / "drop")
    page = queries.lot_page(engine, "04012345111118", "L2603A", diagram=False)
    found = {e.kind: [r.get("child_id") for r in e.rows] for e in page.events}
    assert found["associations"] == ["urn:epc:id:sgtin:4012345.011111.7001"]  # in the crate
    assert found["transactions"] == ["urn:epc:id:sgtin:4012345.011111.7002"]  # on the PO


def test_lot_page_of_an_unknown_lot(engine: sa.Engine) -> None:
    with pytest.raises(queries.NotFound):
        queries.lot_page(engine, COOKIES, "no-such-lot")


def test_sanitise_svg_drops_script_handlers_and_links() -> None:
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        'onload="alert(1)"><script>alert(2)</script><g><a xlink:href="javascript:alert(3)">'
        '<text>x</text></a><text onclick="alert(4)">&lt;script&gt;lot</text>'
        "<foreignObject><div>y</div></foreignObject></g></svg>"
    )
    clean = queries.sanitise_svg(svg)
    assert "alert" not in clean and "<script" not in clean and "foreignObject" not in clean
    assert "&lt;script&gt;lot" in clean


# --- keyset browsing ---------------------------------------------------------------------------


def every_page(engine: sa.Engine, name: str, **options: object) -> list[dict]:
    rows, after, pages = [], None, 0
    while True:
        page = queries.browse(engine, name, after=after, **options)  # type: ignore[arg-type]
        rows += page.rows
        pages += 1
        assert pages < 1000
        if page.next_cursor is None:
            return rows
        after = page.next_cursor


def primary_key(name: str, row: dict) -> tuple:
    table = queries.browsable()[name]
    return tuple(row[c.name] for c in table.primary_key.columns)


@pytest.mark.parametrize(
    ("name", "sort", "filters"),
    [
        ("lot", None, {}),
        ("lot", "gtin", {}),
        ("lot", "-quantity_on_hand", {}),
        ("lot", "tlc_source_location_id", {}),  # nullable: NULLs last, none lost
        ("lot", "-tlc_source_location_id", {}),
        ("lot_closure", None, {}),  # composite primary key
        ("lot_closure", "-exposure", {}),
        ("lot_edge", "completed_at", {}),
        ("receipt_record", "-received_at", {}),
        ("serial", "lot", {"gtin": "00614141000050"}),
        ("lot", "lot", {"lot": "D*"}),
        ("shipment_record", "sscc", {}),
    ],
)
def test_keyset_pagination_returns_every_row_exactly_once(
    engine: sa.Engine, name: str, sort: str | None, filters: dict
) -> None:
    paged = every_page(engine, name, sort=sort, filters=filters, limit=2)
    table = queries.browsable()[name]
    with engine.connect() as conn:
        everything = [
            dict(r)
            for r in conn.execute(
                sa.select(table).where(*queries._conditions(table, filters))
            ).mappings()
        ]
    keys = [primary_key(name, r) for r in paged]
    assert len(keys) == len(set(keys)) == len(everything) > 1
    assert set(keys) == {primary_key(name, r) for r in everything}
    if sort:
        column = sort.lstrip("-")
        values = [r[column] for r in paged]
        present = [v for v in values if v is not None]
        assert present == sorted(present, reverse=sort.startswith("-"))
        assert values == present + [None] * (len(values) - len(present))  # NULLs last


def test_prefix_and_equality_filters(engine: sa.Engine) -> None:
    assert {r["lot"] for r in queries.browse(engine, "lot", {"lot": "D*"}).rows} == {
        "D1",
        "D2",
        "D3",
        "D4",
    }
    rows = queries.browse(engine, "lot_closure", {"ancestor_key": "0"}).rows
    assert rows and all(r["ancestor_key"] == 0 for r in rows)
    assert queries.browse(engine, "lot", {"lot": "%"}).rows == []


@pytest.mark.parametrize(
    ("name", "filters", "sort", "after", "limit"),
    [
        ("sqlite_master", {}, None, None, 10),
        ("lot; DROP TABLE lot", {}, None, None, 10),
        ("portal_user", {}, None, None, 10),  # not a lineage table: never browsable
        ("lot", {"no_such_column": "1"}, None, None, 10),
        ("lot", {"lot_key) OR 1=1 --": "1"}, None, None, 10),
        ("lot", {}, "no_such_column", None, 10),
        ("lot", {}, "lot; DROP TABLE lot", None, 10),
        ("lot", {"lot_key": "not a number"}, None, None, 10),
        ("lot", {}, None, "not-a-cursor", 10),
        ("lot", {}, None, queries.encode_cursor(["a", "b", "c"]), 10),
        ("lot", {}, None, None, 0),
        ("lot", {}, None, None, 100_000),
    ],
)
def test_browse_refuses_what_is_not_whitelisted(
    engine: sa.Engine, name: str, filters: dict, sort: str | None, after: str | None, limit: int
) -> None:
    with pytest.raises(queries.BadQuery):
        queries.browse(engine, name, filters, sort, after, limit)
    assert queries.counts(engine)["lot"] == 10


def test_sql_injection_in_a_filter_value_is_only_data(engine: sa.Engine) -> None:
    for value in ("' OR 1=1 --", '"; DROP TABLE lot; --', "C1' OR '1'='1"):
        assert queries.browse(engine, "lot", {"lot": value}).rows == []
        assert queries.browse(engine, "lot", {"lot": value + "*"}).rows == []
    assert queries.counts(engine)["lot"] == 10


# --- CSV export ---------------------------------------------------------------------------------


def test_export_is_every_filtered_row_in_order(
    engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queries, "EXPORT_CHUNK", 3)  # several chunks, one header
    text = "".join(queries.export_csv(engine, "lot_closure", sort="-exposure"))
    frame = pl.read_csv(io.StringIO(text))
    with engine.connect() as conn:
        total = conn.execute(sa.text("SELECT count(*) FROM lot_closure")).scalar_one()
    assert frame.height == total
    assert frame["exposure"].to_list() == sorted(frame["exposure"].to_list(), reverse=True)
    assert text.count("ancestor_key") == 1


def test_export_neutralises_formula_cells(small_engine: sa.Engine) -> None:
    location = store.table("location")
    with small_engine.begin() as conn:
        conn.execute(
            location.update()
            .where(location.c.location_id == "CUST-A")
            .values(
                business_name='=HYPERLINK("http://evil.example","x")', city="+1+2", phone="@SUM(1)"
            )
        )
    text = "".join(queries.export_csv(small_engine, "location", {"location_id": "CUST-A"}))
    frame = pl.read_csv(io.StringIO(text))
    row = frame.row(0, named=True)
    assert row["business_name"] == '\'=HYPERLINK("http://evil.example","x")'
    assert row["city"] == "'+1+2" and row["phone"] == "'@SUM(1)"
    assert row["longitude"] == pytest.approx(-89.64)  # numbers untouched


def test_export_refuses_a_bad_column_before_any_row(engine: sa.Engine) -> None:
    with pytest.raises(queries.BadQuery):
        next(queries.export_csv(engine, "lot", {"nope": "1"}))


# --- documents ----------------------------------------------------------------------------------


def issued(folder: Path, name: str, data: bytes = b"%PDF-1.7 issued") -> dict:
    return {
        "document_number": "REC-1",
        "file_name": name,
        "pdf_sha256": hashlib.sha256(data).hexdigest(),
    }


def test_document_file_is_the_issued_file_inside_its_folder(tmp_path: Path) -> None:
    folder = tmp_path / "documents"
    folder.mkdir()
    (folder / "recall.pdf").write_bytes(b"%PDF-1.7 issued")
    assert (
        queries.document_file(issued(folder, "recall.pdf"), folder)
        == (folder / "recall.pdf").resolve()
    )
    absolute = str((folder / "recall.pdf").resolve())  # a file_path inside the folder is fine
    assert queries.document_file(issued(folder, absolute), folder).name == "recall.pdf"


def test_document_file_refuses_to_leave_its_folder(tmp_path: Path) -> None:
    folder = tmp_path / "documents"
    folder.mkdir()
    secret = tmp_path / "secret.pdf"
    secret.write_bytes(b"%PDF-1.7 issued")  # same bytes: only the path can refuse it
    (folder / "link.pdf").symlink_to(secret)
    (folder / "sub").mkdir()
    for name in (
        "../secret.pdf",
        "sub/../../secret.pdf",
        str(secret),
        "link.pdf",
        "/etc/passwd",
        "recall.pdf\x00.txt",
    ):
        with pytest.raises(queries.DocumentUnavailable):
            queries.document_file(issued(folder, name), folder)


def test_document_file_refuses_a_changed_or_missing_file(tmp_path: Path) -> None:
    folder = tmp_path / "documents"
    folder.mkdir()
    (folder / "recall.pdf").write_bytes(b"%PDF-1.7 changed")
    with pytest.raises(queries.DocumentUnavailable, match="not the issued"):
        queries.document_file(issued(folder, "recall.pdf"), folder)
    with pytest.raises(queries.DocumentUnavailable, match="missing"):
        queries.document_file(issued(folder, "other.pdf"), folder)
    with pytest.raises(queries.DocumentUnavailable):
        queries.document_file(
            {"document_number": "X", "file_name": None, "pdf_sha256": None}, folder
        )


def test_documents_dir_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(queries.DOCUMENTS_DIR_ENV, str(tmp_path))
    assert queries.documents_dir() == tmp_path
    assert queries.documents_dir(tmp_path / "x") == tmp_path / "x"
    monkeypatch.delenv(queries.DOCUMENTS_DIR_ENV)
    monkeypatch.delenv("LOTLINE_REPORT_DIR", raising=False)
    assert queries.documents_dir() == Path("reports-out")
    assert os.sep not in "reports-out"


# --- loads --------------------------------------------------------------------------------------


def test_loads_and_a_load_detail(engine: sa.Engine) -> None:
    loads = queries.recent_loads(engine)
    assert len(loads) == 1 and loads[0]["files"] == 7
    detail = queries.load_detail(engine, loads[0]["load_id"])
    assert {f["file_name"] for f in detail.files} >= {"receipts.csv", "shipments.csv"}
    assert detail.rejected_total == len(detail.rejected)
    with pytest.raises(queries.NotFound):
        queries.load_detail(engine, "no-such-load")


@pytest.mark.postgres
def test_the_queries_on_postgresql(postgres_url: str, small_drop: Path) -> None:
    from lotline.intake.ingest import load_folder

    engine = store.make_engine(postgres_url)
    load_folder(engine, small_drop)
    assert ("lot", "D3") in kinds(queries.search(engine, "D"))
    assert ("serial", "T1-0002") in kinds(queries.search(engine, "T1-0002"))
    assert ("location", "MegaMart Distribution") in kinds(queries.search(engine, "megamart"))
    assert {r["lot"] for r in queries.browse(engine, "lot", {"lot": "D*"}).rows} == {
        "D1",
        "D2",
        "D3",
        "D4",
    }
    for sort in (None, "-exposure", "tlc_source_location_id"):
        rows = every_page(
            engine, "lot_closure" if sort != "tlc_source_location_id" else "lot", sort=sort, limit=2
        )
        name = "lot_closure" if sort != "tlc_source_location_id" else "lot"
        keys = [primary_key(name, r) for r in rows]
        assert len(keys) == len(set(keys)) == queries.count_rows(engine, name)
    page = queries.lot_page(engine, DOUGH, "D1")
    assert page.backward.total == 2 and page.diagram is not None
    text = "".join(queries.export_csv(engine, "lot", {"gtin": COOKIES}))
    assert pl.read_csv(io.StringIO(text))["lot"].sort().to_list() == ["C1", "C2"]
