// Apollo's query planner on the benchmark supergraph, for comparison with
// shopgraph's planning times: node plan_apollo.mjs SUPERGRAPH QUERY_FILE
// Prints JSON: cold plan (fresh planner, first plan) and re-plan times in ms.
import { readFileSync } from "node:fs";
import { operationFromDocument, Supergraph } from "@apollo/federation-internals";
import { QueryPlanner } from "@apollo/query-planner";
import { parse } from "graphql";

const [supergraphPath, queryPath] = process.argv.slice(2);
const supergraph = Supergraph.build(readFileSync(supergraphPath, "utf8"));
const queryText = readFileSync(queryPath, "utf8");

const ms = (start) => Number(process.hrtime.bigint() - start) / 1e6;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function planOnce(planner) {
  const start = process.hrtime.bigint();
  const operation = operationFromDocument(supergraph.schema, parse(queryText));
  planner.buildQueryPlan(operation);
  return ms(start);
}

const firstInProcess = planOnce(new QueryPlanner(supergraph));
const cold = Array.from({ length: 7 }, () => planOnce(new QueryPlanner(supergraph)));
const warmPlanner = new QueryPlanner(supergraph);
for (let i = 0; i < 50; i++) planOnce(warmPlanner);
const replan = Array.from({ length: 50 }, () => planOnce(warmPlanner));
console.log(JSON.stringify({
  first_plan_in_process_ms: firstInProcess,
  cold_plan_ms: median(cold),
  replan_warm_ms: median(replan),
}));
