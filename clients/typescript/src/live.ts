// Live updates over WebSocket (docs/api.md, "Live updates"): the `graphql-ws` client
// speaking graphql-transport-ws to /graphql/, the token in connection_init's payload.
// Node 20 has no WebSocket of its own: `ws` is given as the implementation.
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import type { StoreEventsSubscription, StoreEventsSubscriptionVariables } from "./generated/graphql";
import { StoreEvents } from "./operations";

export type StoreEvent = StoreEventsSubscription["storeEvents"];

/** A client of baseUrl's /graphql/ over WebSocket; it connects on the first subscription. */
export function liveClient(baseUrl: string, token?: string): Client {
  return createClient({
    url: `${baseUrl.replace(/^http/, "ws")}/graphql/`,
    webSocketImpl: WebSocket,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    retryAttempts: 0,
  });
}

/** What a subscription has delivered so far, and how it ended (if it did). */
export interface Subscription {
  events: StoreEvent[];
  /** The server's refusal: its errors, or the socket's close code (4403: a wrong token). */
  failure: unknown;
  stop: () => void;
}

export function subscribeStoreEvents(client: Client, variables: StoreEventsSubscriptionVariables): Subscription {
  const subscription: Subscription = { events: [], failure: undefined, stop: () => undefined };
  subscription.stop = client.subscribe<StoreEventsSubscription>(
    { query: StoreEvents, variables },
    {
      next: (result) => {
        if (result.errors !== undefined) subscription.failure = result.errors;
        else if (result.data) subscription.events.push(result.data.storeEvents);
      },
      error: (error: unknown) => {
        subscription.failure = error;
      },
      complete: () => undefined,
    },
  );
  return subscription;
}

/** Resolves once `condition()` holds (checked every 20 ms), or rejects after `ms`. */
export async function until(condition: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
