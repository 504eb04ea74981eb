// Composes bench/schemas/*.graphql into a supergraph with Apollo's composition
// library, so every gateway in the benchmark loads the same file:
//   node compose.mjs [OUTPUT]      (default: bench/supergraph.graphql)
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { composeServices } from "@apollo/composition";
import { parse } from "graphql";

const here = dirname(fileURLToPath(import.meta.url));
const output = process.argv[2] ?? join(here, "supergraph.graphql");
const base = "http://127.0.0.1:4200"; // where bench/subgraph_server.py listens
const names = ["accounts", "inventory", "products", "reviews"];

const services = names.map((name) => ({
  name,
  url: `${base}/${name}`,
  typeDefs: parse(readFileSync(join(here, "schemas", `${name}.graphql`), "utf8")),
}));

const result = composeServices(services);
if (result.errors) {
  for (const error of result.errors) console.error(error.toString());
  process.exit(1);
}
writeFileSync(output, result.supergraphSdl);
console.log(`composed ${names.join(", ")} (at ${base}) into ${output}`);
