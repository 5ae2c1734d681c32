"""The portal's read-only pages: search, the lot page, lineage tables, loads and documents.

Thin wiring: each route reads through `lotline.portal.queries` and renders a template under
`reports/templates/portal/`. A bad table, column, sort or cursor in the URL is a 400, an unknown
lot, load or document a 404; list pages and exports set `request.state.result_rows` for the
access log.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from lotline.portal import queries
from lotline.portal.auth import current_user
from lotline.portal.views import render

router = APIRouter(dependencies=[Depends(current_user)])

RESERVED = frozenset({"sort", "after", "limit"})
"""Query parameters of a table page that are not column filters."""


def engine_of(request: Request):  # type: ignore[no-untyped-def]
    return request.app.state.engine


def documents_folder(request: Request):  # type: ignore[no-untyped-def]
    return queries.documents_dir(getattr(request.app.state, "documents_dir", None))


def _rows(request: Request, n: int) -> None:
    request.state.result_rows = n


def _bad(error: Exception) -> HTTPException:
    if isinstance(error, queries.NotFound):
        return HTTPException(404, str(error))
    return HTTPException(400, str(error))


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def home(request: Request) -> HTMLResponse:
    engine = engine_of(request)
    loads = queries.recent_loads(engine, 10)
    return render(
        request, "portal/home.html.j2", loads=loads, counts=queries.counts(engine), title="Home"
    )


@router.get("/search", response_class=HTMLResponse, include_in_schema=False)
def search(request: Request, q: str = "") -> HTMLResponse:
    hits = queries.search(engine_of(request), q[:500])
    _rows(request, len(hits))
    return render(request, "portal/search.html.j2", q=q, hits=hits)


@router.get("/lots/{gtin}/{lot:path}", response_class=HTMLResponse, include_in_schema=False)
def lot_page(request: Request, gtin: str, lot: str) -> HTMLResponse:
    try:
        page = queries.lot_page(engine_of(request), gtin, lot)
    except queries.NotFound as error:
        raise _bad(error) from None
    _rows(request, page.backward.total + page.forward.total + 1)
    return render(request, "portal/lot.html.j2", page=page, lot=page.lot)


@router.get("/tables", response_class=HTMLResponse, include_in_schema=False)
def tables(request: Request) -> HTMLResponse:
    names = sorted(queries.browsable())
    return render(request, "portal/tables.html.j2", names=names)


def _table_query(request: Request) -> tuple[dict[str, str], str | None, str | None, int]:
    params = request.query_params
    filters = {k: v for k, v in params.items() if k not in RESERVED and v != ""}
    try:
        limit = int(params.get("limit") or queries.PAGE_SIZE)
    except ValueError:
        raise HTTPException(400, "limit must be a number") from None
    return filters, params.get("sort") or None, params.get("after") or None, limit


@router.get("/tables/{name}.csv", include_in_schema=False)
def table_csv(request: Request, name: str) -> StreamingResponse:
    filters, sort, _after, _limit = _table_query(request)
    engine = engine_of(request)
    try:
        _rows(request, queries.count_rows(engine, name, filters))
        chunks = queries.export_csv(engine, name, filters, sort)
    except (queries.BadQuery, queries.NotFound) as error:
        raise _bad(error) from None
    return StreamingResponse(
        chunks,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


@router.get("/tables/{name}", response_class=HTMLResponse, include_in_schema=False)
def table_page(request: Request, name: str) -> HTMLResponse:
    filters, sort, after, limit = _table_query(request)
    try:
        page = queries.browse(engine_of(request), name, filters, sort, after, limit)
    except queries.BadQuery as error:
        raise _bad(error) from None
    _rows(request, len(page.rows))

    paging = {"limit": limit} if limit != queries.PAGE_SIZE else {}

    def link(**changes: Any) -> str:
        params = {**filters, **({"sort": sort} if sort else {}), **paging, **changes}
        return queries.table_url(name, **{k: v for k, v in params.items() if v})

    csv_params = {**filters, **({"sort": sort} if sort else {})}
    return render(
        request,
        "portal/table.html.j2",
        page=page,
        name=name,
        link=link,
        csv_url=queries.table_url(name, **csv_params).replace(
            f"/tables/{name}", f"/tables/{name}.csv", 1
        ),
        first_page=after is not None,
    )


@router.get("/loads", response_class=HTMLResponse, include_in_schema=False)
def loads(request: Request) -> HTMLResponse:
    rows = queries.recent_loads(engine_of(request), 500)
    _rows(request, len(rows))
    return render(request, "portal/loads.html.j2", loads=rows)


@router.get("/loads/{load_id}", response_class=HTMLResponse, include_in_schema=False)
def load(request: Request, load_id: str) -> HTMLResponse:
    try:
        detail = queries.load_detail(engine_of(request), load_id)
    except queries.NotFound as error:
        raise _bad(error) from None
    _rows(request, len(detail.findings) + len(detail.rejected))
    return render(request, "portal/load.html.j2", load=detail)


@router.get("/documents", response_class=HTMLResponse, include_in_schema=False)
def documents(request: Request, kind: str | None = None) -> HTMLResponse:
    rows = queries.documents(engine_of(request), kind=kind or None)
    _rows(request, len(rows))
    return render(request, "portal/documents.html.j2", documents=rows, kind=kind or "")


@router.get("/documents/{number}/pdf", include_in_schema=False)
async def document_pdf(request: Request, number: str) -> FileResponse:
    """The issued PDF, only if it is the file the register names, inside the documents folder."""
    engine, folder = engine_of(request), documents_folder(request)
    try:
        entry = await run_in_threadpool(queries.document, engine, number)
        path = await run_in_threadpool(queries.document_file, entry, folder)
    except queries.NotFound as error:
        raise _bad(error) from None
    except queries.DocumentUnavailable as error:
        raise HTTPException(404, str(error)) from None
    _rows(request, 1)
    return FileResponse(path, media_type="application/pdf", filename=path.name)
