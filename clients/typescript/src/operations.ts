// The operations a dashboard needs. `npm run codegen` types each one (FleetPageQuery,
// FleetPageQueryVariables, …) in src/generated/graphql.ts from ../../schema.graphql.

/**
 * The fleet table: a page of stores worst first, as the home page ranks them, with each
 * store's state now, latest poll, outage in progress and uptime (one batch per page).
 * Pass pageInfo.endCursor as `after` for the next page.
 */
export const FleetPage = /* GraphQL */ `
  query FleetPage($first: Int!, $after: String, $state: SegmentState, $silent: Boolean, $idPrefix: String) {
    fleet(first: $first, after: $after, state: $state, silent: $silent, idPrefix: $idPrefix) {
      asOf
      refreshing
      totalCount
      silentCount
      countsByState { state count }
      pageInfo { hasNextPage endCursor }
      edges {
        cursor
        silent
        node {
          id
          timezone
          timezoneIsDefault
          currentState { state since sinceClipped asOf }
          lastPoll { timestampUtc state }
          openIncident { start end minutesLost }
          uptime {
            asOf
            day { uptimeMinutes downtimeMinutes unknownMinutes businessMinutes incidents }
            week { uptimeMinutes downtimeMinutes unknownMinutes businessMinutes incidents }
          }
        }
      }
    }
  }
`;

/** One store's page: hours, uptime windows, timeline, incidents, the first polls. */
export const StoreDetail = /* GraphQL */ `
  query StoreDetail($id: ID!, $from: DateTime!, $to: DateTime!) {
    store(id: $id) {
      id
      timezone
      is24x7
      businessHours { dayOfWeek startTimeLocal endTimeLocal runsPastMidnight }
      uptime(asOf: $to) { asOf horizonMinutes windows { kind uptimeMinutes downtimeMinutes unknownMinutes } }
      timeline(from: $from, to: $to) { start end state }
      incidents(from: $from, to: $to) { start end minutesLost }
      polls(first: 20, from: $from, to: $to) { nodes { timestampUtc state } pageInfo { endCursor hasNextPage } }
    }
  }
`;

/** The next page of a store's polls, by cursor. */
export const StorePolls = /* GraphQL */ `
  query StorePolls($id: ID!, $after: String, $first: Int, $order: PollOrder! = OLDEST_FIRST) {
    store(id: $id) {
      polls(first: $first, after: $after, order: $order) {
        totalCount
        edges { cursor node { id timestampUtc state } }
        pageInfo { endCursor hasNextPage }
      }
    }
  }
`;

export const TriggerReport = /* GraphQL */ `
  mutation TriggerReport($storeIds: [ID!], $asOf: DateTime, $horizonMinutes: Int) {
    triggerReport(storeIds: $storeIds, asOf: $asOf, horizonMinutes: $horizonMinutes) {
      id
      status
      userErrors { field message code }
    }
  }
`;

/** A report, polled until COMPLETE: `completed` is set (every field non-null) exactly then. */
export const ReportState = /* GraphQL */ `
  query ReportState($id: ID!) {
    report(id: $id) {
      id
      status
      error
      completed { asOf storeCount finishedAt downloadUrl downloadUrlExpiresAt }
      rows(pagination: { limit: 100 }) {
        totalCount
        results {
          storeId
          hour { uptimeMinutes downtimeMinutes unknownMinutes }
          day { uptimeMinutes downtimeMinutes unknownMinutes }
          week { uptimeMinutes downtimeMinutes unknownMinutes }
        }
      }
    }
  }
`;

export const RecordPolls = /* GraphQL */ `
  mutation RecordPolls($polls: [PollInput!]!) {
    recordPolls(polls: $polls) {
      received
      loaded
      replaced
      unchanged
      rejected
      rejections { index field reason }
      userErrors { field message code }
    }
  }
`;

/** Live events of the caller's stores (or of `storeIds`), over WebSocket (src/live.ts). */
export const StoreEvents = /* GraphQL */ `
  subscription StoreEvents($storeIds: [ID!]) {
    storeEvents(storeIds: $storeIds) { id event storeId at pollTimestamp incidentStartedAt }
  }
`;
