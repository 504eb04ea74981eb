// Compose each scenario folder's subgraph SDLs into <folder>/supergraph.graphql
// with @apollo/composition. Subgraph URLs are placeholders
// (http://subgraphs.invalid/<scenario>/<subgraph>) that runners override.
// Usage: node compose.mjs SCENARIO_DIR... ; exits 1 and prints the composition
// errors when any folder does not compose.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { composeServices } from "@apollo/composition";
import { parse } from "graphql";

const SUPERGRAPH = "supergraph.graphql";

function composeFolder(folder) {
  const scenario = basename(folder);
  const services = readdirSync(folder)
    .filter((file) => file.endsWith(".graphql") && file !== SUPERGRAPH)
    .sort()
    .map((file) => {
      const name = file.slice(0, -".graphql".length);
      return {
        name,
        url: `http://subgraphs.invalid/${scenario}/${name}`,
        typeDefs: parse(readFileSync(join(folder, file), "utf8")),
      };
    });
  if (services.length === 0) {
    return [`${scenario}: no subgraph .graphql files`];
  }
  const result = composeServices(services);
  if (result.errors) {
    return result.errors.map((e) => `${scenario}: [${e.extensions?.code ?? "ERROR"}] ${e.message}`);
  }
  writeFileSync(join(folder, SUPERGRAPH), result.supergraphSdl + "\n");
  return [];
}

const folders = process.argv.slice(2).map((f) => resolve(f));
if (folders.length === 0) {
  console.error("usage: node compose.mjs SCENARIO_DIR...");
  process.exit(2);
}
let failed = false;
for (const folder of folders) {
  let errors;
  try {
    errors = composeFolder(folder);
  } catch (error) {
    errors = [`${basename(folder)}: ${error.message}`];
  }
  if (errors.length > 0) {
    failed = true;
    for (const line of errors) console.error(line);
  } else {
    console.log(`composed ${basename(folder)}`);
  }
}
process.exit(failed ? 1 : 0);
