"""The JSON API for other systems (mounted under `/api`, documented at `/api/openapi.json`).

`GET /api/trace` answers byte for byte what `lotline trace --format json` prints (both write it
with `lotline.trace_json`), so a script can switch from the command to the API without a
change. Lists are keyset-paged: pass the `next_cursor` of one page as `after` of the
next. Only `POST /api/reports/recall` writes (a PDF into the documents folder and the document
register), for officers and admins.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, Field

from lotline import trace_json
from lotline.portal import queries
from lotline.portal.auth import Principal, current_user, require_role
from lotline.portal.pages import documents_folder, engine_of

router = APIRouter(dependencies=[Depends(current_user)], tags=["lineage"])

Direction = Literal["backward", "forward", "both"]
Issuer = Annotated[Principal, Depends(require_role("officer", "admin"))]


class Page(BaseModel):
    """One page of rows; `next_cursor` is null on the last page."""

    table: str
    items: list[dict[str, Any]]
    next_cursor: str | None = Field(description="pass as `after` to get the next page")


class Document(BaseModel):
    document_number: str
    kind: str
    title: str
    generated_at: datetime
    snapshot_id: str | None = None
    pipeline_run_id: str | None = None
    request_reference: str | None = None
    file_name: str | None = None
    pdf_sha256: str | None = None
    pdf_bytes: int | None = None
    download: str | None = Field(None, description="portal path of the issued PDF")


class RecallBody(BaseModel):
    gtin: str = Field(min_length=1, max_length=14, examples=["00614141000012"])
    lot: str = Field(min_length=1, max_length=200, examples=["F1"])
    direction: Direction = "both"
    request_reference: str = Field("", max_length=200, description="FDA request id, recall no.")
    requester: str = Field("", max_length=200)
    received_at: str = Field("", description="ISO 8601 with offset; the answer is due 24 h later")


def _paged(request: Request, table: str, filters: dict[str, str | None], after, limit) -> Page:  # type: ignore[no-untyped-def]
    try:
        page = queries.browse(
            engine_of(request),
            table,
            {k: v for k, v in filters.items() if v},
            None,
            after,
            limit,
        )
    except queries.BadQuery as error:
        raise HTTPException(400, str(error)) from None
    request.state.result_rows = len(page.rows)
    return Page(table=table, items=jsonable_encoder(page.rows), next_cursor=page.next_cursor)


Limit = Annotated[int, Query(ge=1, le=queries.MAX_PAGE_SIZE)]


@router.get(
    "/trace",
    summary="Trace a lot, serial, SSCC or scan (the JSON of `lotline trace --format json`)",
    responses={200: {"content": {"application/json": {}}}, 404: {}, 400: {}},
)
def trace(
    request: Request,
    gtin: Annotated[str | None, Query(max_length=14)] = None,
    lot: Annotated[str | None, Query(max_length=200)] = None,
    serial: Annotated[str | None, Query(max_length=200)] = None,
    sscc: Annotated[str | None, Query(max_length=18)] = None,
    scan: Annotated[str | None, Query(max_length=1000, description="barcode data, URI")] = None,
    direction: Direction = "both",
    at: Annotated[datetime | None, Query(description="with sscc: contents at this time")] = None,
    min_exposure: Annotated[float, Query(ge=0, le=1)] = 0.0,
) -> Response:
    from lotline import api
    from lotline.trace import UnknownSubject

    engine = engine_of(request)
    try:
        if scan:
            result = api.trace_scan(engine, scan, direction, at=at, min_exposure=min_exposure)
        elif sscc and not gtin:
            result = api.trace_sscc(engine, sscc, at, direction)
        elif gtin and lot and not serial:
            result = api.trace_lot(engine, gtin, lot, direction, min_exposure=min_exposure)
        elif gtin and serial and not lot:
            result = api.trace_serial(engine, gtin, serial, direction)
        else:
            raise ValueError("trace needs gtin with lot or serial, or sscc alone, or scan")
    except UnknownSubject as error:
        raise HTTPException(404, str(error).strip("'\"")) from None
    except ValueError as error:
        raise HTTPException(400, str(error)) from None
    request.state.result_rows = result.lots.height
    body = trace_json.dumps(result)  # as lotline.cli._trace prints it
    return Response(body, media_type="application/json")


@router.get("/lots", response_model=Page, summary="Lots, keyset-paged by lot_key")
def lots(
    request: Request,
    gtin: str | None = None,
    lot: Annotated[str | None, Query(description="exact code, or a prefix ending in *")] = None,
    after: str | None = None,
    limit: Limit = queries.PAGE_SIZE,
) -> Page:
    return _paged(request, "lot", {"gtin": gtin, "lot": lot}, after, limit)


@router.get("/lots/{gtin}/{lot:path}", summary="Everything the lot page shows, as JSON")
def lot(request: Request, gtin: str, lot: str) -> dict[str, Any]:
    try:
        page = queries.lot_page(engine_of(request), gtin, lot, diagram=False)
    except queries.NotFound as error:
        raise HTTPException(404, str(error)) from None
    request.state.result_rows = page.backward.total + page.forward.total + 1
    data = asdict(page)
    data.pop("diagram", None)
    data.pop("diagram_note", None)
    return jsonable_encoder(data)


@router.get("/shipments", response_model=Page, summary="Shipment lines resolved to lots")
def shipments(
    request: Request,
    shipment_id: str | None = None,
    to_location_id: str | None = None,
    gtin: str | None = None,
    lot: str | None = None,
    after: str | None = None,
    limit: Limit = queries.PAGE_SIZE,
) -> Page:
    filters = {"shipment_id": shipment_id, "to_location_id": to_location_id, "gtin": gtin}
    return _paged(request, "lot_shipment", {**filters, "lot": lot}, after, limit)


def _document(entry: dict[str, Any]) -> Document:
    download = f"/documents/{entry['document_number']}/pdf" if entry.get("pdf_sha256") else None
    fields = {k: v for k, v in entry.items() if k in Document.model_fields}
    return Document(**fields, download=download)


@router.get("/documents", response_model=list[Document], summary="The document register")
def documents(
    request: Request,
    kind: str | None = None,
    limit: Limit = 500,
) -> list[Document]:
    rows = queries.documents(engine_of(request), limit=limit, kind=kind)
    request.state.result_rows = len(rows)
    return [_document(r) for r in rows]


@router.get("/documents/{number}", response_model=Document, summary="One register entry")
def document(request: Request, number: str) -> Document:
    try:
        return _document(queries.document(engine_of(request), number))
    except queries.NotFound as error:
        raise HTTPException(404, str(error)) from None


@router.get("/loads", summary="Loads, newest first")
def loads(request: Request, limit: Limit = 100) -> list[dict[str, Any]]:
    rows = queries.recent_loads(engine_of(request), limit)
    request.state.result_rows = len(rows)
    return jsonable_encoder(rows)


@router.get("/loads/{load_id}", summary="One load: files, validation findings, rejected rows")
def load(request: Request, load_id: str) -> dict[str, Any]:
    try:
        detail = queries.load_detail(engine_of(request), load_id)
    except queries.NotFound as error:
        raise HTTPException(404, str(error)) from None
    request.state.result_rows = len(detail.findings) + len(detail.rejected)
    return jsonable_encoder(asdict(detail))


@router.post(
    "/reports/recall",
    summary="Issue a recall report for a lot (officer, admin): the PDF",
    response_class=FileResponse,
    responses={200: {"content": {"application/pdf": {}}}, 403: {}, 404: {}},
)
def recall_report(
    request: Request,
    body: RecallBody,
    user: Issuer,
) -> FileResponse:
    """Renders `reports.recall.render_recall_report` into the documents folder (the register
    takes its number and the PDF's SHA-256) and returns the PDF."""
    from lotline.trace import UnknownSubject
    from reports.recall import RecallRequest, render_recall_report

    engine = engine_of(request)
    gtin = body.gtin.strip().zfill(14)
    try:
        recall = RecallRequest.parse(body.request_reference, body.requester, body.received_at)
        queries.lot_key(engine, gtin, body.lot)  # 404 before a document number is taken
    except queries.NotFound as error:
        raise HTTPException(404, str(error)) from None
    except ValueError as error:
        raise HTTPException(400, str(error)) from None
    folder = documents_folder(request)
    folder.mkdir(parents=True, exist_ok=True)
    try:
        path = render_recall_report(
            engine, gtin, body.lot, folder, direction=body.direction, request=recall,
            prepared_by=user.name,
        )  # fmt: skip
    except UnknownSubject as error:
        raise HTTPException(404, str(error)) from None
    request.state.result_rows = 1
    return FileResponse(path, media_type="application/pdf", filename=path.name)
