from pathlib import Path

from lotline.intake.contract_doc import render


def test_data_contract_document_is_current() -> None:
    path = Path(__file__).parents[3] / "docs" / "data-contract.md"
    assert path.read_text() == render(), (
        "docs/data-contract.md is stale: uv run python -m lotline.intake.contract_doc > "
        "docs/data-contract.md"
    )
