"""The scheduled delivery jobs, run in process by Dagster against a real SMTP server on loopback.

(Named apart from `tests/lotline/test_delivery.py`: without `__init__.py` files pytest cannot
collect two test modules with one basename.)
"""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import pypdf
import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

import models
from lotline import api, store
from lotline.delivery import read_manifest
from lotline.trace import reachable
from pipelines.definitions import defs
from pipelines.defs.automation import expiry_report_job, recall_drill_job
from pipelines.defs.delivery import DeliveryConfig, widest_reach_received_lot
from pipelines.defs.resources import DropFolder, ReportArchive, Warehouse

EXPIRY_RUN_CONFIG = {"ops": {"expiry_report": {"config": {"as_of": "2026-09-15"}}}}


@dataclass
class Inbox:
    envelopes: list[Envelope] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def messages(self) -> list[email.message.EmailMessage]:
        return [
            email.message_from_bytes(e.original_content, policy=email.policy.default)
            for e in self.envelopes
        ]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, Inbox]]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield controller.port, inbox
    finally:
        controller.stop()


def _definitions(sqlite_url: str, tmp_path: Path, delivery: DeliveryConfig) -> dg.Definitions:
    """The code location's assets and real jobs, bound to this test's database and folders."""
    return dg.Definitions(
        assets=list(defs().assets or []),
        jobs=[expiry_report_job, recall_drill_job],
        resources={
            "warehouse": Warehouse(database_url=sqlite_url),
            "drop_folder": DropFolder(path=str(tmp_path / "drop")),
            "report_archive": ReportArchive(path=str(tmp_path / "out")),
            "delivery": delivery,
        },
    )


def _delivery(tmp_path: Path, **settings: object) -> DeliveryConfig:
    return DeliveryConfig(
        smtp_security="none",
        smtp_from="reports@lotline.test",
        expiry_recipients="qa@plant.test, ops@plant.test",
        recall_drill_recipients="recall-team@plant.test",
        archive_dir=str(tmp_path / "archive"),
        retry_delay_seconds=0,
        **settings,
    )


def _materialization(result: dg.ExecuteInProcessResult, key: str) -> dict:
    (event,) = [
        e
        for e in result.get_asset_materialization_events()
        if e.event_specific_data.materialization.asset_key.to_user_string() == key
    ]
    return {k: v.value for k, v in event.event_specific_data.materialization.metadata.items()}


def _attachments(message: email.message.EmailMessage) -> dict[str, bytes]:
    return {part.get_filename(): part.get_content() for part in message.iter_attachments()}


def test_daily_expiry_job_archives_and_mails_the_rendered_report(
    small_engine: sa.Engine, sqlite_url: str, tmp_path: Path, smtp_server: tuple[int, Inbox]
) -> None:
    port, inbox = smtp_server
    definitions = _definitions(
        sqlite_url, tmp_path, _delivery(tmp_path, smtp_host="127.0.0.1", smtp_port=port)
    )
    with dg.instance_for_test() as instance:
        result = definitions.resolve_job_def("expiry_report_job").execute_in_process(
            run_config=EXPIRY_RUN_CONFIG, instance=instance
        )
    assert result.success
    rendered = Path(_materialization(result, "expiry_report")["path"])
    delivered = _materialization(result, "delivered_expiry_report")
    (archived,) = [Path(p) for p in delivered["archived"]]
    assert archived == tmp_path / "archive" / "expiry" / archived.parent.name / rendered.name
    assert archived.read_bytes() == rendered.read_bytes()
    assert read_manifest(archived)["source_run_id"] == result.run_id
    assert delivered["delivery"] == "sent" and delivered["attempts"] == 1

    (message,) = inbox.messages()
    assert message["Message-ID"] == delivered["message_id"]
    assert inbox.envelopes[0].rcpt_tos == ["qa@plant.test", "ops@plant.test"]
    assert rendered.stem in message["Subject"]
    assert _attachments(message) == {rendered.name: rendered.read_bytes()}
    (check,) = result.get_asset_check_evaluations()
    assert check.check_name == "emailed" and check.passed


def test_unreachable_server_is_retried_then_fails_the_run(
    small_engine: sa.Engine, sqlite_url: str, tmp_path: Path
) -> None:
    port = _free_port()  # nothing listens here
    delivery = _delivery(tmp_path, smtp_host="127.0.0.1", smtp_port=port, max_retries=3)
    definitions = _definitions(sqlite_url, tmp_path, delivery)
    with dg.instance_for_test() as instance:
        result = definitions.resolve_job_def("expiry_report_job").execute_in_process(
            run_config=EXPIRY_RUN_CONFIG, instance=instance, raise_on_error=False
        )
        run = instance.get_run_by_id(result.run_id)
        assert run is not None and run.status == dg.DagsterRunStatus.FAILURE
    assert not result.success

    def steps(kind: dg.DagsterEventType) -> list[str | None]:
        return [e.step_key for e in result.all_events if e.event_type == kind]

    assert steps(dg.DagsterEventType.STEP_UP_FOR_RETRY) == ["delivered_expiry_report"] * 3
    assert steps(dg.DagsterEventType.STEP_RESTARTED) == ["delivered_expiry_report"] * 3
    assert steps(dg.DagsterEventType.STEP_SUCCESS) == ["expiry_report"]  # rendered once
    (failure,) = result.get_step_failure_events()
    assert failure.step_key == "delivered_expiry_report"
    chain, error = [], failure.step_failure_data.error
    while error is not None:
        chain.append(error)
        error = error.cause
    assert "Exceeded max_retries of 3" in chain[0].message
    assert any(
        e.cls_name == "DeliveryError"
        and f"127.0.0.1:{port}" in e.message
        and "qa@plant.test, ops@plant.test" in e.message
        for e in chain
    )
    # the report is archived once (retries found the same bytes) although no mail went out
    archived = list((tmp_path / "archive" / "expiry").rglob("*.pdf"))
    assert len(archived) == 1 and len(list((tmp_path / "out").glob("*.pdf"))) == 1


def test_without_smtp_host_the_report_is_archived_and_the_check_fails(
    small_engine: sa.Engine, sqlite_url: str, tmp_path: Path
) -> None:
    definitions = _definitions(sqlite_url, tmp_path, _delivery(tmp_path))
    with dg.instance_for_test() as instance:
        result = definitions.resolve_job_def("expiry_report_job").execute_in_process(
            run_config=EXPIRY_RUN_CONFIG, instance=instance
        )
    delivered = _materialization(result, "delivered_expiry_report")
    assert "not configured" in delivered["delivery"]
    assert "LOTLINE_SMTP_HOST" in delivered["delivery"]
    (check,) = result.get_asset_check_evaluations()
    assert check.check_name == "emailed" and not check.passed
    assert "not configured" in check.metadata["reason"].value
    assert len(delivered["archived"]) == 1 and Path(delivered["archived"][0]).is_file()


def test_weekly_recall_drill_mails_the_widest_reaching_received_lot(
    small_engine: sa.Engine, sqlite_url: str, tmp_path: Path, smtp_server: tuple[int, Inbox]
) -> None:
    # brute force over the in-memory genealogy: the received lot reaching the most lots forward
    lineage = api.load_lineage(small_engine)
    received = lineage.lots.join(lineage.receipts.select("lot_key").unique(), on="lot_key")
    reach = {
        f"{row['gtin']}/{row['lot']}": reachable(lineage.edges, [row["lot_key"]], "forward").height
        for row in received.sort("gtin", "lot").iter_rows(named=True)
    }
    widest = max(reach, key=lambda item: reach[item])
    assert reach[widest] > 1 and widest_reach_received_lot(small_engine) == widest

    port, inbox = smtp_server
    definitions = _definitions(
        sqlite_url, tmp_path, _delivery(tmp_path, smtp_host="127.0.0.1", smtp_port=port)
    )
    with dg.instance_for_test() as instance:
        result = definitions.resolve_job_def("recall_drill_job").execute_in_process(
            instance=instance
        )
    assert result.success
    assert _materialization(result, "recall_drill_report")["lots"] == [widest]
    evidence, report = [Path(p) for p in _materialization(result, "recall_drill_report")["paths"]]
    assert evidence.name.startswith("mock_recall_DRL-") and report.name.startswith("recall_")
    # the drill is a stored record, and the recall report answers it as its request
    (drill,) = _materialization(result, "recall_drill_report")["drills"]
    assert drill["lot"] == widest and drill["status"] in ("pass", "fail")
    (stored,) = store.read_frame(small_engine, models.MockRecall).rows(named=True)
    assert stored["drill_id"] == drill["drill_id"] and stored["pdf_path"] == str(evidence)
    assert f"Request {drill['drill_id']}" in pypdf.PdfReader(report).pages[0].extract_text()
    delivered = _materialization(result, "delivered_recall_drill_report")
    archived = [Path(p) for p in delivered["archived"]]
    assert len(archived) == 2
    assert all(a.parent.parent == tmp_path / "archive" / "recall_drill" for a in archived)
    assert "DSCSA" in read_manifest(archived[0])["retention_basis"]
    (message,) = inbox.messages()
    assert inbox.envelopes[0].rcpt_tos == ["recall-team@plant.test"]
    assert _attachments(message) == {p.name: p.read_bytes() for p in (evidence, report)}
