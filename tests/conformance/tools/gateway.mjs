// Serve Apollo Gateway (the reference implementation) for one supergraph file.
// Usage: node gateway.mjs --supergraph FILE [--port N] [--subgraph NAME=URL]...
// --port 0 (default) picks a free port. Prints "listening <url>" once ready.
import { readFileSync } from "node:fs";
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import { ApolloGateway, RemoteGraphQLDataSource } from "@apollo/gateway";

function parseArgs(argv) {
  const options = { port: 0, urls: {} };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = argv[++i];
    if (value === undefined) throw new Error(`${arg} needs a value`);
    if (arg === "--supergraph") options.supergraph = value;
    else if (arg === "--port") options.port = Number(value);
    else if (arg === "--subgraph") {
      const at = value.indexOf("=");
      if (at < 1) throw new Error(`--subgraph wants NAME=URL, got ${value}`);
      options.urls[value.slice(0, at)] = value.slice(at + 1);
    } else throw new Error(`unknown option ${arg}`);
  }
  if (!options.supergraph) throw new Error("--supergraph FILE is required");
  return options;
}

const options = parseArgs(process.argv.slice(2));
const gateway = new ApolloGateway({
  supergraphSdl: readFileSync(options.supergraph, "utf8"),
  buildService({ name, url }) {
    return new RemoteGraphQLDataSource({ url: options.urls[name] ?? url });
  },
});
const server = new ApolloServer({
  gateway,
  introspection: true,
  includeStacktraceInErrorResponses: false,
});
const { url } = await startStandaloneServer(server, {
  listen: { host: "127.0.0.1", port: options.port },
});
console.log(`listening ${url}`);

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, async () => {
    await server.stop();
    process.exit(0);
  });
}
