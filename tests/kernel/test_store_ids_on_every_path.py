"""Every hostile store id through every path that takes one (docs/rules.md §7): a CSV row of each
kind of file, `recordPolls` as owner and as staff, REST, GraphQL, the pages and the
admin. The outcome must be the same everywhere: refused with a reason, nothing stored,
no other store touched, full reports still COMPLETE, pages still 200."""

import json
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

import pytest
from monitoring.ingest import (
    load_business_hours_file,
    load_status_file,
    load_timezones_file,
)
from monitoring.models import Owner, Report, StatusPoll, Store
from monitoring.reports import report_create, report_run
from monitoring.stores.access import token_create

from tests.factories import worked_example_store
from tests.graphql_client import graphql

pytestmark = pytest.mark.django_db

OWN = "4242424242424242424"  # the owner's real store; the look-alikes below imitate it

#: (name, id): look-alikes of a real id and one of each forbidden Unicode category.
HOSTILE = [
    ("no-break space after", OWN + "\u00a0"),
    ("LF after", OWN + "\n"),
    ("em space before", "\u2003" + OWN),
    ("TAB inside", OWN[:5] + "\t" + OWN[5:]),
    ("CR after", OWN + "\r"),
    ("CR inside", "a\rb"),
    ("BOM before", "\ufeff" + OWN),
    ("NUL", OWN + "\x00"),
    ("zero-width space", OWN + "\u200b"),
    ("bidi override", "\u202e" + OWN),
    ("private use", OWN + "\ue000"),
    ("unassigned", OWN + "\u0378"),
    ("line separator", OWN + "\u2028"),
    ("paragraph separator", OWN + "\u2029"),
    ("lone surrogate", OWN + "\ud800"),
    ("too long", "9" * 256),
]
#: Refused on the API paths only: in a CSV cell, surrounding TABs and spaces are trimmed (docs/rules.md §7).
API_ONLY = [("TAB after", OWN + "\t"), ("space after", OWN + " ")]
STAMP = "2023-01-25 16:00:00 UTC"


@pytest.fixture
def world():
    owner, other = Owner.objects.create(name="owner"), Owner.objects.create(name="other")
    own, noon = worked_example_store(OWN)
    own.owner = owner
    own.save()
    theirs, _ = worked_example_store("their-store")
    theirs.owner = other
    theirs.save()
    return {
        "noon": noon,
        "owner_token": token_create(name="t", owner=owner)[1],
        "staff_token": token_create(name="t", is_staff=True)[1],
    }


def state() -> tuple:
    """Everything a hostile id could touch."""
    return (
        sorted(Store.objects.values_list("store_id", "timezone_name", "owner__name")),
        sorted(StatusPoll.objects.values_list("store__store_id", "timestamp_utc", "is_active")),
        sorted(Store.objects.filter(business_hours__isnull=False).values_list("store_id", "business_hours__day_of_week")),
    )


def csv_cell(value: str) -> bytes:
    """The id as a CSV cell (quoted when it must be); a lone surrogate cannot be UTF-8,
    so it is written as the bytes a buggy exporter would write (invalid UTF-8)."""
    cell = '"' + value.replace('"', '""') + '"' if any(c in value for c in ',"\r\n') else value
    return cell.encode("utf-8", "surrogatepass")


def url_segment(value: str) -> str:
    return quote(value, safe="", errors="surrogatepass")


def assert_refused_everywhere(client, admin_client, tmp_path: Path, world, store_id: str, *, csv: bool) -> None:
    reasons: list[str] = []
    if csv:
        files = {
            load_status_file: b"store_id,timestamp_utc,status\n" + csv_cell(store_id) + b"," + STAMP.encode() + b",active\n",
            load_business_hours_file: b"store_id,dayOfWeek,start_time_local,end_time_local\n"
            + csv_cell(store_id) + b",0,09:00,17:00\n",
            load_timezones_file: b"store_id,timezone_str\n" + csv_cell(store_id) + b",Asia/Tokyo\n",
        }
        for loader, content in files.items():
            path = tmp_path / f"{loader.__name__}.csv"
            path.write_bytes(content)
            result = loader(path=path)
            # A quoted LF ends the line: both halves of the row are rejected.
            rows = 2 if "\n" in store_id else 1
            assert (result.rejected, result.loaded) == (rows, 0), (loader.__name__, result.rejections)
            reasons.append(result.rejections[0].reason)
    for token in (world["owner_token"], world["staff_token"]):
        result = graphql(
            client,
            "mutation($p: [PollInput!]!) { recordPolls(polls: $p) { loaded rejected rejections { field reason } } }",
            {"p": [{"storeId": store_id, "timestampUtc": STAMP, "status": "active"}]},
            token=token,
            status=None,
        )["data"]["recordPolls"]
        assert (result["loaded"], result["rejected"]) == (0, 1) and result["rejections"][0]["field"] in ("store_id", "storeId")
        reasons.append(result["rejections"][0]["reason"])
    for token in (world["owner_token"], world["staff_token"]):
        headers = {"Authorization": f"Bearer {token}"}
        response = client.post(
            "/trigger_report/", json.dumps({"store_ids": [store_id]}), content_type="application/json", headers=headers
        )
        assert response.status_code == 400 and response.json()["error"]
        reasons.append(response.json()["error"])
        response = client.get(f"/store/{url_segment(store_id)}/trigger_report/", headers=headers)
        assert response.status_code in (400, 404) and response.json()["error"]
        looked_up = graphql(client, "query($id: ID!) { store(id: $id) { id } }", {"id": store_id}, token=token, status=None)
        assert looked_up["errors"][0]["message"] != "Unexpected error."
        triggered = graphql(client, "mutation($ids: [ID!]) { triggerReport(storeIds: $ids) { id } }", {"ids": [store_id]}, token=token, status=None)
        assert triggered.get("errors") and triggered["errors"][0]["message"] != "Unexpected error."
    assert all(reason for reason in reasons)
    page = client.get(f"/stores/{url_segment(store_id)}/")
    assert page.status_code in (400, 404)
    if not store_id.isascii() and "\ud800" in store_id:
        return  # a form cannot send a lone surrogate (browsers send U+FFFD, a valid character)
    added = admin_client.post("/admin/monitoring/store/add/", {
        "store_id": store_id, "timezone_name": "", "owner": "",
        "business_hours-TOTAL_FORMS": "0", "business_hours-INITIAL_FORMS": "0",
        "revenue-TOTAL_FORMS": "0", "revenue-INITIAL_FORMS": "0",
    })
    assert added.status_code == 200 and b"errorlist" in added.content  # the form again, with the error


@pytest.mark.parametrize("name,store_id", HOSTILE + API_ONLY, ids=[name for name, _ in HOSTILE + API_ONLY])
def test_a_hostile_store_id_is_refused_on_every_path(client, admin_client, tmp_path, world, name, store_id):
    before = state()
    assert_refused_everywhere(client, admin_client, tmp_path, world, store_id, csv=(name, store_id) in HOSTILE)
    assert state() == before  # nothing stored, no other store touched
    # Full reports still complete, pages still answer.
    report = report_create(as_of=world["noon"])
    assert report_run(report_id=report.id).status == Report.Status.COMPLETE
    assert client.get("/").status_code == 200
    assert client.get(f"/stores/{OWN}/").status_code == 200
    assert client.get(f"/reports/{report.id}/").status_code == 200
    assert admin_client.get("/admin/monitoring/store/").status_code == 200


def test_csv_cells_are_trimmed_of_tabs_and_spaces_only(tmp_path, world):
    """The CSV path's one difference, by docs/rules.md §7: `ID<TAB>` in a cell is the store ID."""
    path = tmp_path / "store_status.csv"
    path.write_bytes(b"store_id,timestamp_utc,status\n" + OWN.encode() + b"\t ," + STAMP.encode() + b",inactive\n")
    assert load_status_file(path=path).loaded == 1
    stamp = datetime(2023, 1, 25, 16, tzinfo=timezone.utc)
    assert StatusPoll.objects.get(store__store_id=OWN, timestamp_utc=stamp).is_active is False
