from pathlib import Path

from lotline.contract_doc import render


def test_data_contract_document_is_current() -> None:
    path = Path(__file__).parents[2] / "docs" / "data-contract.md"
    assert path.read_text() == render(), (
        "docs/data-contract.md is stale: uv run python -m lotline.contract_doc > "
        "docs/data-contract.md"
    )
