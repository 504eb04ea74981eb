// Composes bench/schemas/*.graphql into bench/supergraph.graphql with Apollo's
// composition library, so every gateway in the benchmark loads the same file.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { composeServices } from "@apollo/composition";
import { parse } from "graphql";

const here = dirname(fileURLToPath(import.meta.url));
const base = process.argv[2] ?? "http://127.0.0.1:4200";
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
writeFileSync(join(here, "supergraph.graphql"), result.supergraphSdl);
console.log(`wrote supergraph.graphql (${names.join(", ")} at ${base})`);
