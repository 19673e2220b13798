// The GraphiQL page of /graphql/ (graphql_schema/templates/graphql/graphiql.html):
// strawberry's inline bootstrap script (strawberry-graphql 0.341.2), as a file so the
// page's Content-Security-Policy needs no 'unsafe-inline', and with js-cookie replaced by
// readCookie below. Same behaviour: the query (?q=), variables and headers come from the
// URL; requests carry X-CSRFToken from the CSRF cookie when there is one; the headers
// editor (Authorization: Bearer ...), docs explorer, history and query explorer are on.
// Subscriptions go over WebSocket to the same URL (graphql-transport-ws, with the graphql-ws
// client inside graphiql.min.js): the headers editor's headers are connection_init's payload.
(function () {
  "use strict";

  // What the editor opens on (without ?q=): an example of this API that runs as it is
  // (tests/graphql/test_graphiql_example.py runs it).
  const EXAMPLE_QUERY = `# The store uptime monitor's API. Run this with Ctrl-Enter (or the play button);
# the Docs button lists every type, docs/api.md is the contract in full.
#
# Without a token you see the demo's stores; with one, add under Headers:
#   {"Authorization": "Bearer <token>"}
#
# The first 10 stores with their uptime over the last day and week, in minutes of
# business time (unknown time is neither up nor down; docs/rules.md §4).
query FleetUptime {
  stores(ordering: [{id: ASC}], pagination: {offset: 0, limit: 10}) {
    totalCount
    results {
      id
      timezone
      uptime {
        asOf
        day { uptimeMinutes downtimeMinutes unknownMinutes }
        week { uptimeMinutes downtimeMinutes unknownMinutes }
      }
    }
  }
}

# Then a report for every store (a CSV, computed by the workers):
#   mutation { triggerReport { id status userErrors { field message code } } }
# and its progress, with the id it answered:
#   query { report(id: "...") { status completed { downloadUrl } } }
# Live, over WebSocket (the token under Headers goes along): your stores' events as
# they happen; run it, then send a poll (recordPolls) from elsewhere:
#   subscription { storeEvents { event storeId at } }
`;

  const container = document.getElementById("graphiql");

  function readCookie(name) {
    for (const part of document.cookie ? document.cookie.split(";") : []) {
      const eq = part.indexOf("=");
      if (eq >= 0 && part.slice(0, eq).trim() === name) {
        try {
          return decodeURIComponent(part.slice(eq + 1).trim());
        } catch (error) {
          return part.slice(eq + 1).trim();
        }
      }
    }
    return undefined;
  }

  // Parse URL parameters for sharing queries
  const parameters = {};

  for (const entry of window.location.search.slice(1).split("&")) {
    const eq = entry.indexOf("=");
    if (eq >= 0) {
      try {
        parameters[decodeURIComponent(entry.slice(0, eq))] = decodeURIComponent(
          entry.slice(eq + 1).replace(/\+/g, " "),
        );
      } catch (error) {
        // A malformed escape: that parameter is ignored.
      }
    }
  }

  function updateURL(data) {
    Object.assign(parameters, data);

    const newSearch =
      "?" +
      Object.keys(parameters)
        .filter(function (key) {
          return Boolean(parameters[key]);
        })
        .map(function (key) {
          return encodeURIComponent(key) + "=" + encodeURIComponent(parameters[key]);
        })
        .join("&");
    history.replaceState(null, null, newSearch);
  }

  const fetchURL = window.location.href.split("?")[0].split("#")[0];

  function httpUrlToWebSocketUrl(url) {
    const parsedURL = new URL(url);
    parsedURL.protocol = parsedURL.protocol === "http:" ? "ws:" : "wss:";
    parsedURL.hash = "";
    return parsedURL.toString();
  }

  const defaultHeaders = {};
  const csrfToken = readCookie(container.dataset.csrfCookieName || "csrftoken");

  if (csrfToken) {
    defaultHeaders["x-csrftoken"] = csrfToken;
  }

  const fetcher = GraphiQL.createFetcher({
    url: fetchURL,
    headers: defaultHeaders,
    subscriptionUrl: httpUrlToWebSocketUrl(fetchURL),
  });

  function GraphiQLWithExplorer() {
    const [query, setQuery] = React.useState(parameters.q || EXAMPLE_QUERY);
    const [variables, setVariables] = React.useState(parameters.variables);
    const [headers, setHeaders] = React.useState(parameters.headers);

    function onEditQuery(newQuery) {
      setQuery(newQuery);
      updateURL({ q: newQuery });
    }

    function onEditVariables(newVariables) {
      setVariables(newVariables);
      updateURL({ variables: newVariables });
    }

    function onEditHeaders(newHeaders) {
      setHeaders(newHeaders);
    }

    const explorerPlugin = GraphiQLPluginExplorer.explorerPlugin();

    return React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultEditorToolsVisibility: true,
      plugins: [explorerPlugin],
      query: query,
      variables: variables,
      headers: headers,
      onEditQuery: onEditQuery,
      onEditVariables: onEditVariables,
      onEditHeaders: onEditHeaders,
      inputValueDeprecation: true,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: true,
    });
  }

  const root = ReactDOM.createRoot(container);
  root.render(React.createElement(GraphiQLWithExplorer));
})();
