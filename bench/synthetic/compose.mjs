// Composes the synthetic graph's subgraphs with Apollo's composition library:
//   node compose.mjs SUBGRAPH_DIR OUTPUT
// SUBGRAPH_DIR holds one NAME.graphql per subgraph (bench/synthetic/generate.py writes
// them); each is routed at http://127.0.0.1:4450/NAME (nothing listens: planning only).
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { composeServices } from "@apollo/composition";
import { parse } from "graphql";

const [directory, output] = process.argv.slice(2);
const names = readdirSync(directory)
  .filter((file) => file.endsWith(".graphql"))
  .map((file) => file.slice(0, -".graphql".length))
  .sort();

const started = process.hrtime.bigint();
const services = names.map((name) => ({
  name,
  url: `http://127.0.0.1:4450/${name}`,
  typeDefs: parse(readFileSync(join(directory, `${name}.graphql`), "utf8")),
}));
const result = composeServices(services);
const ms = Number(process.hrtime.bigint() - started) / 1e6;
if (result.errors) {
  for (const error of result.errors) console.error(error.toString());
  process.exit(1);
}
writeFileSync(output, result.supergraphSdl);
console.log(JSON.stringify({ subgraphs: names.length, compose_ms: ms, output }));
