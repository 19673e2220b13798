"""Special hours over GraphQL (docs/rules.md §9): set, read and clear, refusals naming the
argument, owner scoped, a range holding too many rows refused."""

from datetime import timedelta

import pytest

from tests.factories import worked_example_store

pytestmark = pytest.mark.django_db


SPECIAL = """query($id: ID!, $from: Date, $to: Date) { store(id: $id) {
    specialHours(from: $from, to: $to) { date startTimeLocal endTimeLocal closed } } }"""


SET_SPECIAL = """mutation($id: ID!, $date: Date!, $shifts: [ShiftInput!]!) {
    setSpecialHours(storeId: $id, date: $date, shifts: $shifts) { specialHours { date startTimeLocal endTimeLocal closed } } }"""


CLEAR_SPECIAL = "mutation($id: ID!, $date: Date!) { clearSpecialHours(storeId: $id, date: $date) { cleared } }"


DAY_UPTIME = """query($asOf: DateTime!) { store(id: "worked-example") { uptime(asOf: $asOf) {
    windows { window businessMinutes uptimeMinutes } } } }"""


def _day_window(gql, noon):
    windows = gql.query(DAY_UPTIME, {"asOf": noon.isoformat()}).data["store"]["uptime"]["windows"]
    return {w["window"]: w for w in windows}["day"]


def test_special_hours_set_read_and_clear(gql):
    store, noon = worked_example_store()  # open 09:00–12:00 every day, New York; noon on 2023-01-25
    assert _day_window(gql, noon)["businessMinutes"] == pytest.approx(180)

    closed = gql.query(SET_SPECIAL, {"id": "worked-example", "date": "2023-01-25", "shifts": []}).data
    assert closed["setSpecialHours"]["specialHours"] == [
        {"date": "2023-01-25", "startTimeLocal": None, "endTimeLocal": None, "closed": True}
    ]
    # the read cache was told: the same query now sees the closed day (the day window is 2023-01-24
    # 12:00 .. 2023-01-25 12:00 local: nothing open on the 24th after noon, the 25th closed)
    assert _day_window(gql, noon) == {"window": "day", "businessMinutes": 0, "uptimeMinutes": 0}

    short = gql.query(SET_SPECIAL, {
        "id": "worked-example", "date": "2023-01-25",
        "shifts": [{"startTimeLocal": "10:00", "endTimeLocal": "11:00"}, {"startTimeLocal": "22:00", "endTimeLocal": "24:00"}],
    }).data["setSpecialHours"]["specialHours"]
    assert short == [
        {"date": "2023-01-25", "startTimeLocal": "10:00:00", "endTimeLocal": "11:00:00", "closed": False},
        {"date": "2023-01-25", "startTimeLocal": "22:00:00", "endTimeLocal": "00:00:00", "closed": False},
    ]
    day = _day_window(gql, noon)
    assert day["businessMinutes"] == pytest.approx(60)
    # the 11:15 inactive poll is outside the special 10:00–11:00: not evidence; 10:14 active covers it all
    assert day["uptimeMinutes"] == pytest.approx(60)
    gql.query(SET_SPECIAL, {"id": "worked-example", "date": "2023-12-25", "shifts": []})

    rows = gql.query(SPECIAL, {"id": "worked-example"}).data["store"]["specialHours"]
    assert [(r["date"], r["closed"]) for r in rows] == [("2023-01-25", False), ("2023-01-25", False), ("2023-12-25", True)]
    ranged = gql.query(SPECIAL, {"id": "worked-example", "from": "2023-02-01", "to": "2023-12-25"}).data
    assert [r["date"] for r in ranged["store"]["specialHours"]] == ["2023-12-25"]

    assert gql.query(CLEAR_SPECIAL, {"id": "worked-example", "date": "2023-01-25"}).data == {"clearSpecialHours": {"cleared": True}}
    assert gql.query(CLEAR_SPECIAL, {"id": "worked-example", "date": "2023-01-25"}).data == {"clearSpecialHours": {"cleared": False}}
    assert _day_window(gql, noon)["businessMinutes"] == pytest.approx(180)  # the weekly hours again


@pytest.mark.parametrize(
    "variables, message",
    [
        ({"date": "2023-02-30"}, "$date' has invalid value: out of range '2023-02-30' (no such date)"),
        ({"date": "20230125"}, "$date' has invalid value: unparsable '20230125' (expected YYYY-MM-DD)"),
        ({"date": "1999-12-31"}, "$date' has invalid value: must be in the years 2000–2100, not 1999-12-31"),
        ({"shifts": [{"startTimeLocal": "24:00", "endTimeLocal": "10:00"}]},
         "shifts[0].startTimeLocal: 24:00 is only allowed as an end time"),
        ({"shifts": [{"startTimeLocal": "09:00", "endTimeLocal": "9h"}]},
         "shifts[0].endTimeLocal: unparsable '9h' (expected HH:MM or HH:MM:SS)"),
        ({"shifts": [{"startTimeLocal": f"{h:02d}:00", "endTimeLocal": f"{h:02d}:30"} for h in range(11)]},
         "shifts: at most 10 shifts a date"),
        ({"id": "nope"}, "store not found: nope"),
    ],
)
def test_set_special_hours_refusals_name_the_argument(gql, variables, message):
    worked_example_store()
    sent = {"id": "worked-example", "date": "2023-01-25", "shifts": [], **variables}
    result = gql.query(SET_SPECIAL, sent, assert_no_errors=False)
    assert message in result.errors[0]["message"]
    if "date" not in variables:  # a Date the scalar refuses refuses the request; the rest are userErrors
        with_errors = SET_SPECIAL.replace("closed } }", "closed } userErrors { field message code } }")
        (user_error,) = gql.query(with_errors, sent).data["setSpecialHours"]["userErrors"]
        assert message in user_error["message"] and user_error["field"] == message.split(":")[0].replace("store not found", "storeId")
        assert user_error["code"] == ("NOT_FOUND" if "id" in variables else "INVALID_ARGUMENT")
    from monitoring.models import SpecialHours

    assert not SpecialHours.objects.exists()


def test_special_hours_are_owner_scoped(client, settings):
    from monitoring.models import Owner, SpecialHours
    from monitoring.stores.access import token_create

    settings.API_ANONYMOUS_ACCESS = False
    alice, bob = Owner.objects.create(name="alice"), Owner.objects.create(name="bob")
    a1, _ = worked_example_store("a1")
    b1, _ = worked_example_store("b1")
    a1.owner, b1.owner = alice, bob
    a1.save(), b1.save()
    token = token_create(name="t", owner=alice)[1]

    def call(query, variables):
        return client.post("/graphql/", {"query": query, "variables": variables}, content_type="application/json",
                           headers={"Authorization": f"Bearer {token}"}).json()

    mine = call(SET_SPECIAL, {"id": "a1", "date": "2023-01-25", "shifts": []})
    assert mine["data"]["setSpecialHours"]["specialHours"][0]["closed"] is True
    for query, variables in ((SET_SPECIAL, {"id": "b1", "date": "2023-01-25", "shifts": []}),
                             (CLEAR_SPECIAL, {"id": "b1", "date": "2023-01-25"}),
                             (SPECIAL, {"id": "b1"})):
        assert call(query, variables)["errors"][0]["message"] == "store not found: b1"
    assert list(SpecialHours.objects.values_list("store__store_id", flat=True)) == ["a1"]


def test_special_hours_range_holding_too_many_rows_is_refused(gql):
    from datetime import date

    from graphql_schema.stores.types import SPECIAL_HOURS_MAX_ROWS
    from monitoring.models import SpecialHours

    store, _ = worked_example_store()
    first = date(2024, 1, 1)
    SpecialHours.objects.bulk_create(
        SpecialHours(store=store, date=first + timedelta(days=k)) for k in range(SPECIAL_HOURS_MAX_ROWS + 1)
    )
    result = gql.query(SPECIAL, {"id": "worked-example"}, assert_no_errors=False)
    assert result.errors[0]["message"] == "more than 100 special-hours rows in this range: narrow from/to"
    last = (first + timedelta(days=SPECIAL_HOURS_MAX_ROWS - 1)).isoformat()
    rows = gql.query(SPECIAL, {"id": "worked-example", "to": last}).data["store"]["specialHours"]
    assert len(rows) == SPECIAL_HOURS_MAX_ROWS
