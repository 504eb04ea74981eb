// Apollo's query planner over many operations, for comparison with shopgraph's
// planning at scale: node plan_apollo_many.mjs SUPERGRAPH OPERATIONS_JSON [WARMUP]
// OPERATIONS_JSON is a JSON list of operation texts (bench/synthetic/operations.py).
// Prints JSON: the supergraph's load (Supergraph.build + new QueryPlanner) and, per
// operation with a warm planner (WARMUP operations planned first, default 300), the
// time of parse + operationFromDocument + buildQueryPlan ("prepare") and of
// buildQueryPlan alone ("plan"): median, p90, p99, max in ms; failures counted.
import { readFileSync } from "node:fs";
import { operationFromDocument, Supergraph } from "@apollo/federation-internals";
import { QueryPlanner } from "@apollo/query-planner";
import { parse } from "graphql";

const [supergraphPath, operationsPath, warmupArg] = process.argv.slice(2);
const warmup = Number(warmupArg ?? 300);
const now = () => process.hrtime.bigint();
const ms = (from, to) => Number(to - from) / 1e6;

function summary(xs) {
  const sorted = [...xs].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { median: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted[sorted.length - 1] };
}

const sdl = readFileSync(supergraphPath, "utf8");
const operations = JSON.parse(readFileSync(operationsPath, "utf8"));
const loadStart = now();
const supergraph = Supergraph.build(sdl);
const planner = new QueryPlanner(supergraph);
const loadMs = ms(loadStart, now());

function planOne(text) {
  const start = now();
  const operation = operationFromDocument(supergraph.schema, parse(text));
  const planStart = now();
  planner.buildQueryPlan(operation);
  const end = now();
  return [ms(start, end), ms(planStart, end)];
}

for (const text of operations.slice(0, warmup)) {
  try { planOne(text); } catch { /* counted below */ }
}
const prepare = [];
const plan = [];
const failures = [];
const started = now();
for (const text of operations) {
  try {
    const [whole, alone] = planOne(text);
    prepare.push(whole);
    plan.push(alone);
  } catch (error) {
    failures.push(String(error.message ?? error).slice(0, 200));
  }
}
console.log(JSON.stringify({
  supergraph_load_ms: loadMs,
  operations: operations.length,
  warmup,
  planned: prepare.length,
  failed: failures.length,
  failure_samples: failures.slice(0, 5),
  prepare_ms: summary(prepare),
  plan_ms: summary(plan),
  total_s: ms(started, now()) / 1000,
}));
