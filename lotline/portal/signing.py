"""Signing in the portal: an officer re-enters the password and signs a document (21 CFR
11.200: both components of the signature at each signing outside a continuous session are not
assumed; here the password is asked every time).

GET `/documents/{number}/sign` shows the form, POST signs (`lotline.signing.approval.approve`)
and redirects to the versions page, GET `/documents/{number}/versions` lists every version of
the document with its signatures. A refused signature shows the form again with the reason;
the password is never put back into the page or a log.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse

from lotline.portal.auth import Principal, current_user, require_role
from lotline.portal.views import render
from lotline.signing import approval

router = APIRouter()
SIGNERS = approval.SIGNERS
Signer = Annotated[Principal, Depends(require_role(*SIGNERS))]
Viewer = Annotated[Principal, Depends(current_user)]


def _entry_or_404(request: Request, number: str) -> list[dict[str, object]]:
    chain = approval.versions(request.app.state.engine, number)
    if not chain:
        raise HTTPException(404, f"no document {number} in the register")
    return chain


@router.get("/documents/{number}/sign", response_class=HTMLResponse, include_in_schema=False)
def sign_form(request: Request, number: str, user: Signer) -> HTMLResponse:
    chain = _entry_or_404(request, number)
    return _form(request, number, chain)


def _form(
    request: Request,
    number: str,
    chain: list[dict[str, object]],
    error: str | None = None,
    meaning: str = "approved",
    status_code: int = 200,
) -> HTMLResponse:
    entry = next(e for e in chain if e["document_number"] == number)
    latest = chain[-1]["document_number"]
    return render(
        request,
        "portal/sign.html.j2",
        status_code=status_code,
        document=entry,
        latest=latest,
        meanings=approval.MEANINGS,
        meaning=meaning,
        error=error,
    )


@router.post("/documents/{number}/sign", response_model=None, include_in_schema=False)
async def sign(
    request: Request,
    number: str,
    password: Annotated[str, Form()],
    meaning: Annotated[str, Form()],
    user: Signer,
) -> HTMLResponse | RedirectResponse:
    engine = request.app.state.engine
    chain = await run_in_threadpool(_entry_or_404, request, number)
    try:
        approved = await run_in_threadpool(
            approval.approve, engine, number, user.name, password, meaning
        )
    except approval.ApprovalRefused as error:
        return _form(request, number, chain, str(error), meaning, status_code=422)
    request.state.result_rows = 1
    return RedirectResponse(f"/documents/{approved.document_number}/versions", status_code=303)


@router.get("/documents/{number}/versions", response_class=HTMLResponse, include_in_schema=False)
def document_versions(request: Request, number: str, user: Viewer) -> HTMLResponse:
    engine = request.app.state.engine
    chain = _entry_or_404(request, number)
    signatures = approval.signatures_of_chain(engine, str(chain[-1]["document_number"]))
    request.state.result_rows = len(chain)
    return render(
        request,
        "portal/versions.html.j2",
        number=number,
        versions=chain,
        signatures=signatures,
        may_sign=user.role in SIGNERS,
    )
