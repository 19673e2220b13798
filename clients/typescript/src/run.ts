// Runs the dashboard's operations against a live server and checks what a frontend
// relies on: typed errors, nullable lookups, minutes, cursors, the report lifecycle.
//   API_URL=http://127.0.0.1:8000 [API_TOKEN=…] STORE_ID=… AS_OF=2023-01-25T18:13:22Z [LIVE_STORE_ID=…] node dist/run.js
// Exits 1 on the first failed check; prints one JSON line per check. With LIVE_STORE_ID
// (a store open now, with no live polls yet): live updates over WebSocket too.
import { ApiClient, errorWithCode } from "./client";
import type {
  FleetPageQuery,
  FleetPageQueryVariables,
  PollOrder,
  RecordPollsMutation,
  RecordPollsMutationVariables,
  ReportStateQuery,
  ReportStateQueryVariables,
  StoreDetailQuery,
  StoreDetailQueryVariables,
  StorePollsQuery,
  StorePollsQueryVariables,
  TriggerReportMutation,
  TriggerReportMutationVariables,
} from "./generated/graphql";
import { liveClient, subscribeStoreEvents, until } from "./live";
import { FleetPage, RecordPolls, ReportState, StoreDetail, StorePolls, TriggerReport } from "./operations";

function environment(name: string, fallback?: string): string {
  const value = process.env[name] ?? fallback;
  if (value === undefined || value === "") throw new Error(`set ${name}`);
  return value;
}

/** A field the server nulls only when one of its arguments is refused (with an error). */
function present<T>(value: T | null, what: string): T {
  if (value === null) throw new Error(`${what} is null: an argument was refused`);
  return value;
}

function check(name: string, condition: boolean, detail: unknown = null): void {
  console.log(JSON.stringify({ check: name, ok: condition, detail }));
  if (!condition) throw new Error(`check failed: ${name}`);
}

const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;

async function main(): Promise<void> {
  const client = new ApiClient(environment("API_URL"), process.env["API_TOKEN"]);
  const storeId = environment("STORE_ID");
  const asOf = environment("AS_OF");
  const weekBefore = new Date(Date.parse(asOf) - 7 * 24 * 3600 * 1000).toISOString();

  // A wrong token: UNAUTHENTICATED, whatever was asked.
  const stranger = new ApiClient(environment("API_URL"), "not-a-token");
  const refusedCaller = await stranger.request<FleetPageQuery, FleetPageQueryVariables>(FleetPage, { first: 1 });
  check("wrong token is UNAUTHENTICATED", errorWithCode(refusedCaller.errors, "UNAUTHENTICATED") !== undefined, refusedCaller.errors);

  // The fleet, worst first, walked by cursor one store a page: each store once, the
  // counts of the whole list on every page, each store's figures at the ranking's asOf.
  type Fleet = NonNullable<FleetPageQuery["fleet"]>;
  const stores: Fleet["edges"][number]["node"][] = [];
  let fleetAfter: string | null = null;
  let fleet: Fleet | undefined;
  for (let page = 0; page < 100; page++) {
    const answer: FleetPageQuery = await client.data<FleetPageQuery, FleetPageQueryVariables>(FleetPage, { first: 1, after: fleetAfter });
    fleet = present(answer.fleet, "fleet");
    stores.push(...fleet.edges.map((edge) => edge.node));
    if (!fleet.pageInfo.hasNextPage) break;
    fleetAfter = fleet.pageInfo.endCursor;
  }
  if (fleet === undefined) throw new Error("no fleet page");
  const ranking = fleet;
  check("fleet walked by cursor, each store once", stores.length === ranking.totalCount && new Set(stores.map((s) => s.id)).size === stores.length, stores.map((s) => s.id));
  const counted = ranking.countsByState.reduce((total, item) => total + item.count, 0);
  check("fleet counts by state add up", counted === ranking.totalCount && ranking.silentCount <= counted, ranking.countsByState);
  for (const store of stores) {
    const uptime = present(store.uptime, `fleet ${store.id}: uptime`);
    const day = uptime.day;
    const sum = day.uptimeMinutes + day.downtimeMinutes + day.unknownMinutes;
    check(`fleet ${store.id}: day adds up`, Math.abs(sum - day.businessMinutes) <= 0.02, day);
    const now = store.currentState;
    check(
      `fleet ${store.id}: state now at the ranking's asOf`,
      Date.parse(now.asOf) === Date.parse(ranking.asOf) && Date.parse(uptime.asOf) === Date.parse(ranking.asOf) && Date.parse(now.since) < Date.parse(now.asOf),
      now,
    );
    // An outage in progress exactly when the store is down, or closed since it was last down.
    const incident = store.openIncident;
    check(
      `fleet ${store.id}: outage in progress when down`,
      now.state !== "DOWN" || (incident !== null && Date.parse(incident.end) === Date.parse(now.asOf) && incident.minutesLost > 0),
      incident,
    );
    check(`fleet ${store.id}: last poll`, store.lastPoll === null || Date.parse(store.lastPoll.timestampUtc) <= Date.parse(now.asOf), store.lastPoll);
  }
  // The stores down now come first.
  const downNow = await client.data<FleetPageQuery, FleetPageQueryVariables>(FleetPage, { first: 50, state: "DOWN" });
  const down = present(downNow.fleet, "fleet").edges.map((edge) => edge.node.id);
  check("fleet down now first", down.every((id, i) => stores[i]?.id === id), down);

  // A missing store is null with NOT_FOUND; nothing else is lost.
  const missing = await client.request<StoreDetailQuery, StoreDetailQueryVariables>(StoreDetail, {
    id: "no-such-store", from: weekBefore, to: asOf,
  });
  const notFound = errorWithCode(missing.errors, "NOT_FOUND");
  check("missing store is null + NOT_FOUND", missing.data !== null && missing.data.store === null && notFound !== undefined, notFound);

  // A naive instant is INVALID_ARGUMENT naming the argument.
  const naive = await client.request<StoreDetailQuery, StoreDetailQueryVariables>(StoreDetail, {
    id: storeId, from: "2023-01-25T12:00:00", to: asOf,
  });
  const invalid = errorWithCode(naive.errors, "INVALID_ARGUMENT");
  check("naive instant is INVALID_ARGUMENT", invalid?.extensions?.argument === "from", invalid);

  // Store detail: timeline covering the week exactly, RFC 3339 instants.
  const detail = await client.data<StoreDetailQuery, StoreDetailQueryVariables>(StoreDetail, { id: storeId, from: weekBefore, to: asOf });
  const store = detail.store;
  if (store === null) throw new Error(`store ${storeId} not found`);
  const timeline = present(store.timeline, "timeline");
  const storeUptime = present(store.uptime, "uptime");
  const incidents = present(store.incidents, "incidents");
  const first = timeline[0];
  const last = timeline[timeline.length - 1];
  check("timeline covers [from, to)", first !== undefined && last !== undefined && Date.parse(first.start) === Date.parse(weekBefore) && Date.parse(last.end) === Date.parse(asOf));
  check("instants are RFC 3339 UTC", timeline.every((s) => RFC3339.test(s.start) && RFC3339.test(s.end)), first);
  check("uptime windows are HOUR, DAY, WEEK", storeUptime.windows.map((w) => w.kind).join(",") === "HOUR,DAY,WEEK");
  const downMinutes = incidents.reduce((total, incident) => total + incident.minutesLost, 0);
  check("incidents are in minutes", downMinutes <= (storeUptime.windows[2]?.downtimeMinutes ?? 0) + 0.01 * incidents.length, downMinutes);

  // Polls by cursor: every page after the last one's endCursor, in order.
  const walk = async (order: PollOrder): Promise<{ instants: string[]; ids: string[]; totals: Set<number> }> => {
    let after: string | null = null;
    const instants: string[] = [];
    const ids: string[] = [];
    const totals = new Set<number>();
    for (let page = 0; page < 50; page++) {
      const answer: StorePollsQuery = await client.data<StorePollsQuery, StorePollsQueryVariables>(StorePolls, { id: storeId, after, first: 2, order });
      if (answer.store === null) throw new Error("store vanished");
      const polls = present(answer.store.polls, "polls");
      totals.add(polls.totalCount);
      instants.push(...polls.edges.map((edge) => edge.node.timestampUtc));
      ids.push(...polls.edges.map((edge) => edge.node.id));
      if (!polls.pageInfo.hasNextPage) break;
      after = polls.pageInfo.endCursor;
    }
    return { instants, ids, totals };
  };
  const oldest = await walk("OLDEST_FIRST");
  const instants = oldest.instants;
  check("polls by cursor, oldest first", instants.length > 0 && instants.every((t, i) => i === 0 || (instants[i - 1] ?? "") < t), instants.length);
  check("polls' totalCount is the list's length", oldest.totals.size === 1 && oldest.totals.has(instants.length), [...oldest.totals]);
  const newest = await walk("NEWEST_FIRST");
  check("polls by cursor, newest first: the same ids reversed", newest.ids.join(",") === [...oldest.ids].reverse().join(","), newest.ids.length);

  // Live polls: docs/rules.md §1's status spellings in any case; a bad one is a rejection.
  const recorded = await client.data<RecordPollsMutation, RecordPollsMutationVariables>(RecordPolls, {
    polls: [
      { storeId, timestampUtc: "2023-01-25 17:59:00 UTC", status: "ACTIVE" },
      { storeId, timestampUtc: "2023-01-25T17:58:00Z", status: "sleeping" },
    ],
  });
  const polls = recorded.recordPolls;
  check("recordPolls answers", polls !== null && polls.userErrors.length === 0 && polls.rejections[0]?.field === "status", polls);

  // Input refused: userErrors, nothing queued.
  const refused = await client.data<TriggerReportMutation, TriggerReportMutationVariables>(TriggerReport, { storeIds: ["no-such-store"] });
  check("trigger refused in userErrors", refused.triggerReport?.id === null && refused.triggerReport.userErrors[0]?.field === "storeIds", refused);

  // Trigger → poll → download.
  const triggered = await client.data<TriggerReportMutation, TriggerReportMutationVariables>(TriggerReport, { storeIds: [storeId], asOf });
  const reportId = triggered.triggerReport?.id;
  if (reportId === undefined || reportId === null) throw new Error("no report queued");
  check("report queued", triggered.triggerReport?.status === "PENDING", triggered);
  const deadline = Date.now() + 90_000;
  for (;;) {
    const state = await client.data<ReportStateQuery, ReportStateQueryVariables>(ReportState, { id: reportId });
    const report = state.report;
    if (report === null) throw new Error("report vanished");
    if (report.status === "FAILED") throw new Error(`report failed: ${report.error ?? ""}`);
    // `completed` narrows the COMPLETE report: every field below is non-null, no `!` needed.
    if (report.completed) {
      const { downloadUrl, downloadUrlExpiresAt, storeCount, asOf: reportAsOf } = report.completed;
      check("complete report", storeCount === 1 && Date.parse(reportAsOf) === Date.parse(asOf) && Date.parse(downloadUrlExpiresAt) > Date.now());
      const row = report.rows.results[0];
      check("row in minutes", row !== undefined && row.storeId === storeId && row.day.uptimeMinutes >= 0, row);
      const csv = await client.download(downloadUrl);
      check("CSV downloads", csv.status === 200 && csv.text.startsWith("store_id,uptime_last_hour,"), csv.status);
      break;
    }
    if (Date.now() > deadline) throw new Error("report not complete in 90 s");
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  const liveStoreId = process.env["LIVE_STORE_ID"];
  if (liveStoreId !== undefined && liveStoreId !== "") await liveChecks(client, liveStoreId);
  console.log(JSON.stringify({ done: true }));
}

/** storeEvents over WebSocket: a live inactive poll is told as STORE_DOWN within a second. */
async function liveChecks(client: ApiClient, storeId: string): Promise<void> {
  const apiUrl = environment("API_URL");
  const record = async (at: Date, status: string): Promise<void> => {
    const result = await client.data<RecordPollsMutation, RecordPollsMutationVariables>(RecordPolls, {
      polls: [{ storeId, timestampUtc: at.toISOString(), status }],
    });
    if (result.recordPolls?.loaded !== 1) throw new Error(`poll not recorded: ${JSON.stringify(result)}`);
  };

  // A wrong token: the socket is closed with 4403, nothing is delivered.
  const stranger = liveClient(apiUrl, "not-a-token");
  const refused = subscribeStoreEvents(stranger, {});
  await until(() => refused.failure !== undefined, 10_000, "the refusal of a wrong token");
  check("live: wrong token closed with 4403", (refused.failure as { code?: number }).code === 4403, refused.failure);
  await stranger.dispose();

  const live = liveClient(apiUrl, process.env["API_TOKEN"]);
  const subscription = subscribeStoreEvents(live, { storeIds: [storeId] });
  // The server starts listening after the subscribe message, and does not say when: pairs
  // of polls (inactive, active) until the pair's STORE_UP arrives; the store is then up.
  const warmUp = Date.now() - 30 * 60 * 1000;
  let listening = false;
  for (let step = 0; step < 20 && !listening; step++) {
    const up = new Date(warmUp + (2 * step + 1) * 1000);
    await record(new Date(warmUp + 2 * step * 1000), "inactive");
    await record(up, "active");
    listening = await until(
      () => subscription.events.some((e) => e.event === "STORE_UP" && Date.parse(e.pollTimestamp ?? "") === up.getTime()),
      1000, "a warm-up STORE_UP",
    ).then(() => true, () => false);
  }
  check("live: subscribed", listening && subscription.failure === undefined, subscription.failure);

  const heard = subscription.events.length;
  const polled = new Date(Date.now() - 10_000);
  const sent = Date.now();
  await record(polled, "inactive");
  await until(() => subscription.events.length > heard, 5000, "STORE_DOWN");
  const elapsed = Date.now() - sent;
  const down = subscription.events[heard];
  check(
    "live: STORE_DOWN within a second",
    down !== undefined && down.event === "STORE_DOWN" && down.storeId === storeId && Date.parse(down.pollTimestamp ?? "") === polled.getTime() && elapsed < 1000,
    { elapsed, down },
  );
  subscription.stop();
  await live.dispose();
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
