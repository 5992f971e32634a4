"""CSV import of call records: each call stored once by its identity (given, or made from the
call when the file has none), twice the same file stores nothing more; a bad line is refused
with its number and nothing of its chunk stored; the command line does the same."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from tests.accounts.factories import make_account
from tests.subscriptions.factories import deliver
from voipdesk.cli import app
from voipdesk.consumption import errors, importer
from voipdesk.consumption.models import RatedCall
from voipdesk.consumption.services import rate_everything_pending
from voipdesk.switch.models import CallRecord

HEADER = "caller,callee,direction,line_number,started_at,duration_seconds,disposition,sip_code\n"


def _file(number: str) -> str:
    return HEADER + (
        f"{number},+33612345678,outgoing,{number},2026-03-02T11:00:00+01:00,120,answered,200\n"
        f"+33612345678,{number},incoming,{number},2026-03-02T12:00:00Z,30,answered,\n"
        f"{number},+33612345678,outgoing,{number},2026-03-02T13:00:00+01:00,0,busy,486\n"
    )


def _count(platform, model):
    with platform.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_import_twice_stores_once_and_finds_the_group(platform):
    account = make_account(platform)
    result = deliver(platform, account.id, lines=[("sip-decouverte", 2)])
    number = result.sip_credentials[0].number_e164
    first = importer.import_calls(platform, importer.read_calls(io.StringIO(_file(number))))
    assert (first.read, first.stored) == (3, 3)
    again = importer.import_calls(platform, importer.read_calls(io.StringIO(_file(number))))
    assert (again.read, again.stored, again.already_known) == (3, 0, 3)
    assert _count(platform, CallRecord) == 3
    with platform.session() as session:
        groups = set(session.scalars(select(CallRecord.billing_group_id)))
        sources = set(session.scalars(select(CallRecord.source)))
    assert groups == {result.billing_group_id} and sources == {"import"}
    rate_everything_pending(platform)
    rate_everything_pending(platform)
    assert _count(platform, RatedCall) == 3


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (("outgoing,", "sideways,"), "direction"),
        (("2026-03-02T11:00:00+01:00", "2026-03-02T11:00:00"), "UTC offset"),
        (("2026-03-02T11:00:00+01:00", "yesterday"), "ISO 8601"),
        ((",120,", ",-5,"), "negative"),
        ((",120,", ",two,"), "integer"),
    ],
)
def test_a_bad_line_is_refused_with_its_number(platform, change, reason):
    text = _file("+33190100000").replace(*change, 1)
    with pytest.raises(errors.InvalidImport) as refused:
        importer.import_calls(platform, importer.read_calls(io.StringIO(text)))
    assert "Line 2 " in str(refused.value) and reason in str(refused.value)
    assert _count(platform, CallRecord) == 0


def test_missing_columns_are_named(platform):
    with pytest.raises(errors.InvalidImport) as refused:
        list(importer.read_calls(io.StringIO("caller,callee\n1,2\n")))
    assert "direction" in str(refused.value) and "started_at" in str(refused.value)


def test_the_command_imports_once(platform, tmp_path):
    path = tmp_path / "calls.csv"
    path.write_text(_file("+33190100000"), encoding="utf-8")
    runner = CliRunner()
    url = platform.settings.database_url
    first = runner.invoke(app, ["consumption", "import", str(path), "--database-url", url])
    assert first.exit_code == 0, first.output
    assert "3 calls read, 3 stored, 0 already known." in first.output
    second = runner.invoke(app, ["consumption", "import", str(path), "--database-url", url])
    assert "3 calls read, 0 stored, 3 already known." in second.output
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "x,y,outgoing,+331,2026-03-02,1,answered,\n", encoding="utf-8")
    refused = runner.invoke(app, ["consumption", "import", str(bad), "--database-url", url])
    assert refused.exit_code == 2 and "invalid-call-import" in refused.output
