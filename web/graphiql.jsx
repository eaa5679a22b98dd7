// GraphiQL for `make run` (dev mode only), bundled by scripts/build-graphiql.mjs into build/graphiql/
// and served by the API from disk (api/graphiql.py): the page works with no network but the API's own.
import { createRoot } from "react-dom/client";
import { GraphiQL } from "graphiql";
import { explorerPlugin } from "@graphiql/plugin-explorer";
import "graphiql/style.css";
import "@graphiql/plugin-explorer/style.css";
import "./graphiql.css";

// Monaco runs its language services in web workers; they are bundled next to this file, so they load
// from the same place as the page's own script (a CDN would be the default otherwise).
const here = import.meta.url;
globalThis.MonacoEnvironment = {
  getWorker(_workerId, label) {
    const name = label === "json" ? "json.worker.js" : label === "graphql" ? "graphql.worker.js" : "editor.worker.js";
    return new Worker(new URL(name, here));
  },
};

// The server writes the settings into the page as JSON data (not a script: the CSP runs none inline).
const config = JSON.parse(document.getElementById("graphiql-config").textContent);
// The page is served at the GraphQL endpoint itself, so this is the endpoint under any path prefix.
const endpoint = window.location.pathname;

async function fetcher(params, opts) {
  const response = await fetch(endpoint, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/graphql-response+json, application/json",
      ...(opts && opts.headers),
    },
    body: JSON.stringify(params),
  });
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch {
    return { errors: [{ message: `HTTP ${response.status}: ${text.slice(0, 500)}` }] };
  }
}

const headers = config.headers ? JSON.stringify(config.headers, null, 2) : undefined;

createRoot(document.getElementById("graphiql")).render(
  <GraphiQL
    fetcher={fetcher}
    defaultQuery={config.query}
    // initialHeaders wins over what an earlier visit left in localStorage, so the token is always
    // the one this server just signed; defaultHeaders seeds every new tab with it.
    initialHeaders={headers}
    defaultHeaders={headers}
    defaultEditorToolsVisibility={headers ? "headers" : false}
    plugins={[explorerPlugin()]}
  />,
);
