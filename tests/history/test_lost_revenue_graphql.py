"""Lost revenue in GraphQL (docs/rules.md §13) against the independent reference
(tests/reference_revenue.py) on the history's generated stores with revenue profiles:
`Store.uptime` windows, `uptimeBetween` over 90 days, `daily` over DST dates, incidents,
`fleetLostRevenue` per currency; null for a store without rows; `setStoreRevenue` and
`Store.expectedRevenue`, with their refusals and tenancy."""

import random
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.test import Client

from monitoring.models import Owner, Store, StoreRevenue
from monitoring.reports import report_run
from monitoring.stores.access import token_create
from monitoring.stores.revenue import store_revenue_set
from tests import reference_revenue as ref
from tests.graphql_client import graphql
from tests.history.generated import H_US, UTC, generate

pytestmark = pytest.mark.django_db

LOST = "lostRevenue { amount atRisk currency }"
#: Stores of the generated set: one without rows (no estimate), one in EUR.
WITHOUT_ROWS = "b"
CURRENCY = {"B": "EUR"}
AS_OF = datetime(2023, 3, 15, 18, 0, tzinfo=UTC)  # its week holds New York's spring forward


def profiles(seed: int = 5) -> dict[str, dict[tuple[int, int], Decimal]]:
    """Revenue per (weekday, hour) of each store but WITHOUT_ROWS: busier at lunch and
    dinner, some hours without a row (they expect 0)."""
    rng = random.Random(seed)
    out = {}
    for store in Store.objects.exclude(store_id=WITHOUT_ROWS).order_by("store_id"):
        base = rng.randrange(5_000, 30_000)  # cents
        rows = {}
        for day in range(7):
            for hour in range(24):
                if rng.random() < 0.15:
                    continue  # no row: expects 0
                shape = 3 if hour in (12, 13, 19, 20) else 1
                rows[day, hour] = Decimal(base * shape + rng.randrange(100)) / 100
        out[store.store_id] = rows
    return out


@pytest.fixture
def world():
    data = generate()
    rates = profiles()
    for store_id, rows in rates.items():
        store_revenue_set(
            store=Store.objects.get(store_id=store_id), rows=[(d, h, amount) for (d, h), amount in rows.items()],
            currency=CURRENCY.get(store_id, "USD"),
        )
    return data, rates


def expected(data, rates, store_id, start: datetime, end: datetime, as_of: datetime | None = None):
    """The reference's {amount, atRisk, currency} of a store's window (None without rows)."""
    if store_id not in rates:
        return None
    lost, at_risk = ref.lost_revenue(
        data.schedules[store_id], data.polls[store_id], rates[store_id], ref.us(start), ref.us(end),
        ref.us(as_of or end), H_US,
    )
    return {"amount": f"{lost:.2f}", "atRisk": f"{at_risk:.2f}", "currency": CURRENCY.get(store_id, "USD")}


def test_uptime_windows_match_the_reference(client, world):
    data, rates = world
    got = graphql(
        client,
        f"""query($asOf: DateTime!) {{ stores(pagination: {{limit: 10}}) {{ results {{ id
            uptime(asOf: $asOf) {{ hour {{ {LOST} }} day {{ {LOST} }} week {{ {LOST} }} }} }} }} }}""",
        {"asOf": AS_OF.isoformat()},
    )
    assert "errors" not in got, got
    stores = got["data"]["stores"]["results"]
    assert {store["id"] for store in stores} == set(data.schedules)
    for store in stores:
        for name, length in (("hour", timedelta(hours=1)), ("day", timedelta(days=1)), ("week", timedelta(days=7))):
            assert store["uptime"][name]["lostRevenue"] == expected(data, rates, store["id"], AS_OF - length, AS_OF), (
                store["id"], name,
            )
    assert any(float(s["uptime"]["week"]["lostRevenue"]["amount"]) > 0 for s in stores if s["id"] in rates)
    assert any(float(s["uptime"]["week"]["lostRevenue"]["atRisk"]) > 0 for s in stores if s["id"] in rates)


def test_a_store_without_rows_has_no_estimate_not_zero(client, world):
    got = graphql(
        client,
        f"""{{ store(id: "{WITHOUT_ROWS}") {{ expectedRevenue {{ currency }} uptime {{ week {{ {LOST} }} }}
            uptimeBetween(from: "2023-03-01T00:00:00Z", to: "2023-03-08T00:00:00Z") {{ {LOST} }}
            daily(from: "2023-03-01", to: "2023-03-02") {{ {LOST} }}
            incidents(from: "2023-03-01T00:00:00Z", to: "2023-03-20T00:00:00Z") {{ {LOST} }} }} }}""",
    )["data"]["store"]
    assert got["expectedRevenue"] is None
    assert got["uptime"]["week"]["lostRevenue"] is None
    assert got["uptimeBetween"]["lostRevenue"] is None
    assert [day["lostRevenue"] for day in got["daily"]] == [None, None]
    assert got["incidents"] and all(incident["lostRevenue"] is None for incident in got["incidents"])


@pytest.mark.parametrize(
    "start, end",
    [
        (datetime(2023, 1, 5, tzinfo=UTC), datetime(2023, 4, 5, tzinfo=UTC)),  # 90 days, polls in six weeks of them
        (datetime(2023, 3, 8, 18, tzinfo=UTC), datetime(2023, 3, 15, 18, tzinfo=UTC)),  # the last week
        (datetime(2023, 3, 26, 0, 30, tzinfo=UTC), datetime(2023, 3, 26, 2, 30, tzinfo=UTC)),  # London springs forward
    ],
)
def test_uptime_between_matches_the_reference(client, world, start, end):
    data, rates = world
    for store_id in data.schedules:
        got = graphql(
            client,
            f"""query($id: ID!, $from: DateTime!, $to: DateTime!) {{ store(id: $id) {{
                uptimeBetween(from: $from, to: $to) {{ {LOST} }} }} }}""",
            {"id": store_id, "from": start.isoformat(), "to": end.isoformat()},
        )["data"]["store"]["uptimeBetween"]
        assert got["lostRevenue"] == expected(data, rates, store_id, start, end), store_id


@pytest.mark.parametrize(
    "first, last",
    [(date(2023, 3, 11), date(2023, 3, 13)), (date(2023, 3, 25), date(2023, 3, 27)), (date(2023, 4, 1), date(2023, 4, 3))],
)
def test_daily_matches_the_reference_on_dst_dates(client, world, first, last):
    data, rates = world
    for store_id, schedule in data.schedules.items():
        days = graphql(
            client,
            f"""query($id: ID!, $from: Date!, $to: Date!) {{ store(id: $id) {{
                daily(from: $from, to: $to) {{ date {LOST} }} }} }}""",
            {"id": store_id, "from": first.isoformat(), "to": last.isoformat()},
        )["data"]["store"]["daily"]
        assert len(days) == (last - first).days + 1
        for day in days:
            local = date.fromisoformat(day["date"])
            start = ref.instant(ref.local_midnight_us(local, schedule.timezone_name))
            end = ref.instant(ref.local_midnight_us(local + timedelta(days=1), schedule.timezone_name))
            assert day["lostRevenue"] == expected(data, rates, store_id, start, end), (store_id, local)


def test_incidents_cost_their_down_time_and_risk_nothing(client, world):
    data, rates = world
    start, end = datetime(2023, 3, 1, tzinfo=UTC), datetime(2023, 3, 20, tzinfo=UTC)
    incidents = graphql(
        client,
        f"""{{ store(id: "a2") {{ incidents(from: "{start.isoformat()}", to: "{end.isoformat()}")
            {{ start end {LOST} }} }} }}""",
    )["data"]["store"]["incidents"]
    assert len(incidents) > 3
    for incident in incidents:
        began = datetime.fromisoformat(incident["start"])
        ended = min(datetime.fromisoformat(incident["end"]), end)
        assert incident["lostRevenue"] == expected(data, rates, "a2", began, ended, end)
        assert incident["lostRevenue"]["atRisk"] == "0.00"


def test_fleet_lost_revenue_adds_per_currency_rounded_once(client, world):
    data, rates = world
    start, end = datetime(2023, 3, 1, tzinfo=UTC), datetime(2023, 3, 15, tzinfo=UTC)
    got = graphql(
        client,
        "query($from: DateTime!, $to: DateTime!) { fleetLostRevenue(from: $from, to: $to) { currency amount atRisk stores } }",
        {"from": start.isoformat(), "to": end.isoformat()},
    )["data"]["fleetLostRevenue"]
    sums: dict[str, list[Decimal]] = {}
    for store_id, own in rates.items():
        down, unknown = ref.exposure(
            data.schedules[store_id], data.polls[store_id], ref.us(start), ref.us(end), ref.us(end), H_US
        )
        total = sums.setdefault(CURRENCY.get(store_id, "USD"), [Decimal(0), Decimal(0), 0])
        total[0] += ref.exact(down, own)
        total[1] += ref.exact(unknown, own)
        total[2] += 1
    assert got == [
        {"currency": code, "amount": f"{ref.rounded(lost):.2f}", "atRisk": f"{ref.rounded(risk):.2f}", "stores": count}
        for code, (lost, risk, count) in sorted(sums.items())
    ]


SET = """mutation($id: ID!, $rows: [ExpectedRevenueInput!]!, $currency: String!) {
  setStoreRevenue(storeId: $id, rows: $rows, currency: $currency) {
    expectedRevenue { currency hours { dayOfWeek hour expectedRevenue } }
    userErrors { field message code } } }"""


def test_set_store_revenue_replaces_the_rows_and_moves_the_figures(client, world):
    data, _ = world
    asked = f'{{ store(id: "{WITHOUT_ROWS}") {{ uptime(asOf: "{AS_OF.isoformat()}") {{ week {{ {LOST} }} }} }} }}'
    assert graphql(client, asked)["data"]["store"]["uptime"]["week"]["lostRevenue"] is None  # read, and cached
    rows = [{"dayOfWeek": d, "hour": h, "expectedRevenue": "100"} for d in range(7) for h in range(24)]
    done = graphql(client, SET, {"id": WITHOUT_ROWS, "rows": rows, "currency": "eur"})["data"]["setStoreRevenue"]
    assert done["userErrors"] == []
    assert done["expectedRevenue"]["currency"] == "EUR"
    assert len(done["expectedRevenue"]["hours"]) == 168
    assert done["expectedRevenue"]["hours"][0] == {"dayOfWeek": 0, "hour": 0, "expectedRevenue": "100.00"}
    week = graphql(client, asked)  # the write moved the data version: not the cached answer
    flat = {(d, h): Decimal(100) for d in range(7) for h in range(24)}
    lost, at_risk = ref.lost_revenue(
        data.schedules[WITHOUT_ROWS], data.polls[WITHOUT_ROWS], flat, ref.us(AS_OF - timedelta(days=7)), ref.us(AS_OF),
        ref.us(AS_OF), H_US,
    )
    assert week["data"]["store"]["uptime"]["week"]["lostRevenue"] == {
        "amount": f"{lost:.2f}", "atRisk": f"{at_risk:.2f}", "currency": "EUR",
    }
    emptied = graphql(client, SET, {"id": WITHOUT_ROWS, "rows": [], "currency": "USD"})["data"]["setStoreRevenue"]
    assert emptied == {"expectedRevenue": None, "userErrors": []}
    assert not StoreRevenue.objects.filter(store__store_id=WITHOUT_ROWS).exists()


@pytest.mark.parametrize(
    "rows, currency, field, message",
    [
        ([{"dayOfWeek": 0, "hour": 24, "expectedRevenue": "1"}], "USD", "rows[0].hour", "expected an hour 0-23"),
        ([{"dayOfWeek": 7, "hour": 1, "expectedRevenue": "1"}], "USD", "rows[0].dayOfWeek", "expected 0-6"),
        ([{"dayOfWeek": 0, "hour": 1, "expectedRevenue": "1"}] * 2, "USD", "rows[1]", "given twice"),
        ([{"dayOfWeek": 0, "hour": 1, "expectedRevenue": "1"}], "XYZ", "currency", "unknown currency"),
        ([{"dayOfWeek": 0, "hour": h % 24, "expectedRevenue": "1"} for h in range(169)], "USD", "rows", "at most 168"),
    ],
)
def test_set_store_revenue_refusals_change_nothing(client, world, rows, currency, field, message):
    before = sorted(StoreRevenue.objects.values_list("pk", "expected_revenue", "currency"))
    done = graphql(client, SET, {"id": "a10", "rows": rows, "currency": currency})["data"]["setStoreRevenue"]
    assert done["expectedRevenue"] is None
    (error,) = done["userErrors"]
    assert error["field"] == field and message in error["message"] and error["code"] == "INVALID_ARGUMENT", error
    assert sorted(StoreRevenue.objects.values_list("pk", "expected_revenue", "currency")) == before


@pytest.mark.parametrize("amount", ["1.005", "-1", "1e3", 12.5])
def test_amounts_are_read_by_the_grammar(client, world, amount):
    rows = [{"dayOfWeek": 0, "hour": 1, "expectedRevenue": amount}]
    got = graphql(client, SET, {"id": "a10", "rows": rows, "currency": "USD"})
    assert got["data"] is None and got["errors"][0]["extensions"]["code"] == "INVALID_ARGUMENT", got


def test_owners_see_and_write_only_their_own_stores_revenue(world):
    alice, bob = Owner.objects.create(name="alice"), Owner.objects.create(name="bob")
    Store.objects.filter(store_id="a10").update(owner=alice)
    Store.objects.filter(store_id="a2").update(owner=bob)
    token = token_create(name="t", owner=alice)[1]
    client = Client()
    mine = graphql(client, f'{{ store(id: "a10") {{ expectedRevenue {{ currency }} uptime {{ week {{ {LOST} }} }} }} }}',
                   token=token)
    assert mine["data"]["store"]["expectedRevenue"]["currency"] == "USD"
    assert mine["data"]["store"]["uptime"]["week"]["lostRevenue"]["currency"] == "USD"
    other = graphql(client, '{ store(id: "a2") { expectedRevenue { currency } } }', token=token)
    assert other["data"]["store"] is None and other["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    before = sorted(StoreRevenue.objects.filter(store__store_id="a2").values_list("pk", "expected_revenue"))
    done = graphql(
        client, SET, {"id": "a2", "rows": [{"dayOfWeek": 0, "hour": 1, "expectedRevenue": "1"}], "currency": "USD"},
        token=token,
    )["data"]["setStoreRevenue"]
    assert done["userErrors"][0]["code"] == "NOT_FOUND"
    assert sorted(StoreRevenue.objects.filter(store__store_id="a2").values_list("pk", "expected_revenue")) == before
    # The fleet's totals are alice's store's alone.
    totals = graphql(
        client, '{ fleetLostRevenue(from: "2023-03-01T00:00:00Z", to: "2023-03-08T00:00:00Z") { currency stores } }',
        token=token,
    )["data"]["fleetLostRevenue"]
    assert totals == [{"currency": "USD", "stores": 1}]


def test_a_reports_rows_have_the_lost_revenue_of_their_windows(client, world):
    data, rates = world
    triggered = graphql(client, f'mutation {{ triggerReport(asOf: "{AS_OF.isoformat()}") {{ id }} }}')
    report_id = triggered["data"]["triggerReport"]["id"]
    report_run(report_id=report_id)
    rows = graphql(
        client,
        f"""query($id: ID!) {{ report(id: $id) {{ rows(pagination: {{limit: 3}}) {{ results {{ storeId
            hour {{ {LOST} }} week {{ {LOST} }} }} }} }} }}""",
        {"id": report_id},
    )["data"]["report"]["rows"]["results"]
    assert len(rows) == 3
    for row in rows:
        for name, length in (("hour", timedelta(hours=1)), ("week", timedelta(days=7))):
            assert row[name]["lostRevenue"] == expected(data, rates, row["storeId"], AS_OF - length, AS_OF), row
