// A GraphQL subscription over graphql-transport-ws with the graphql-ws client library.
//
//   node subscribe_ws.mjs <url> <query> [<token>|-] [<variables JSON>]
//
// <url>: the router's WebSocket URL (ws://host:port/graphql). <token>: sent as
// `Authorization` in connection_init's payload ("-" or absent: none).
// Prints one JSON line per happening, then exits: `{"connected":true}` once the router
// acknowledged the connection, `{"next":<payload>}` per event, and finally
// `{"complete":true}` (exit 0) or `{"error":<errors, or the close code and reason>}`
// (exit 1).
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const [url, query, token = "-", variables = "{}"] = process.argv.slice(2);
if (!url || !query) {
  console.error("usage: node subscribe_ws.mjs <url> <query> [<token>|-] [<variables JSON>]");
  process.exit(2);
}
const print = (line) => process.stdout.write(JSON.stringify(line) + "\n");

const client = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: token === "-" ? {} : { Authorization: token },
  retryAttempts: 0,
  on: { connected: () => print({ connected: true }) },
});

try {
  for await (const payload of client.iterate({ query, variables: JSON.parse(variables) })) {
    print({ next: payload });
  }
  print({ complete: true });
  await client.dispose();
  process.exit(0);
} catch (error) {
  // a list of GraphQL errors, or the CloseEvent that ended the socket
  const reported = Array.isArray(error)
    ? error
    : { code: error?.code ?? null, reason: error?.reason ?? String(error) };
  print({ error: reported });
  await client.dispose();
  process.exit(1);
}
