// A GraphQL subscription over graphql-sse ("distinct connections" mode) with the
// graphql-sse client library.
//
//   node subscribe_sse.mjs <url> <query> [<token>|-] [<variables JSON>]
//
// <url>: the router's HTTP URL (http://host:port/graphql). <token>: sent as the
// `Authorization` header ("-" or absent: none).
// Prints one JSON line per happening, then exits: `{"connected":true}` once the event
// stream is open, `{"next":<payload>}` per event, and finally `{"complete":true}`
// (exit 0) or `{"error":<message>}` (exit 1).
import { createClient } from "graphql-sse";

const [url, query, token = "-", variables = "{}"] = process.argv.slice(2);
if (!url || !query) {
  console.error("usage: node subscribe_sse.mjs <url> <query> [<token>|-] [<variables JSON>]");
  process.exit(2);
}
const print = (line) => process.stdout.write(JSON.stringify(line) + "\n");

const client = createClient({
  url,
  headers: token === "-" ? {} : { Authorization: token },
  retryAttempts: 0,
  on: { connected: () => print({ connected: true }) },
});

try {
  for await (const payload of client.iterate({ query, variables: JSON.parse(variables) })) {
    print({ next: payload });
  }
  print({ complete: true });
  client.dispose();
  process.exit(0);
} catch (error) {
  print({ error: Array.isArray(error) ? error : String(error?.message ?? error) });
  client.dispose();
  process.exit(1);
}
