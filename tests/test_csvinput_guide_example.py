"""The CRM export in the guide to mailing at volume shows what the guide
says it shows: each kind of bad row, and the headers it reads unaided."""

from __future__ import annotations

from pathlib import Path

import pytest

from amcards import cli, csvinput
from amcards.transports.fake import FakeAMcards

CRM_EXAMPLE = (
    Path(__file__).resolve().parent.parent
    / "docs"
    / "examples"
    / "crm-export.csv"
)


def test_every_header_but_the_stage_is_read_without_map() -> None:
    columns = csvinput.read_recipients(CRM_EXAMPLE).columns
    assert columns.ignored == ("Lifecycle Stage",)
    assert columns.column_of("postal_code") == "ZIP/Postal"


def test_the_guides_example_shows_what_the_guide_says(
    service: FakeAMcards, capsys: pytest.CaptureFixture[str]
) -> None:
    status = cli.main(
        [
            "send-cards",
            str(CRM_EXAMPLE),
            "--template",
            "1",
            "--fake",
            "--dry-run",
        ]
    )
    err = capsys.readouterr().err
    assert status == cli.EXIT_NOT_ALL_SENT
    rejections = [
        line for line in err.splitlines() if line.startswith("  rejected")
    ]
    assert len(rejections) == 4
    text = "\n".join(rejections)
    assert "(Samuel Okoro): the city is missing; the state is missing" in text
    assert "lost its leading zero" in text
    assert "is not a real date" in text
    assert "warning: phone" in text
    assert "same recipient as line 3" in text
    assert "Ignored columns (not sent): 'Lifecycle Stage'." in err
