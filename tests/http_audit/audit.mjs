// Runs graphql-http's server audits against a GraphQL-over-HTTP endpoint and
// prints one JSON array of results: [{id, name, status, reason?}].
// usage: node audit.mjs http://127.0.0.1:4000/graphql
import { serverAudits } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs <graphql endpoint URL>');
  process.exit(2);
}

const results = [];
for (const audit of serverAudits({ url })) {
  const result = await audit.fn();
  const entry = { id: result.id, name: result.name, status: result.status };
  if (result.status !== 'ok') entry.reason = result.reason;
  results.push(entry);
}
console.log(JSON.stringify(results, null, 1));
