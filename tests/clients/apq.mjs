// Apollo Client's persisted query link against a running shopgraph router.
//
//   node apq.mjs <router /graphql URL> apq|safelist
//
// apq: a first client sends a query by hash only (GET), is told the hash is unknown,
// registers it (the link retries with the text), then a second, fresh client sends the
// hash only and is answered. safelist: a listed operation by hash only, then an
// operation the router's manifest does not list. Prints one JSON object: what each
// client got (data, or the error codes it was refused with).
import { createHash } from "node:crypto";
import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { createPersistedQueryLink } from "@apollo/client/link/persisted-queries";

const [url, mode] = process.argv.slice(2);
const LISTED = gql`query Top { topProducts { name } }`;
const UNLISTED = gql`query Upcs { topProducts { upc } }`;

function sha256(text) {
  return createHash("sha256").update(text).digest("hex");
}

function client() {
  const persisted = createPersistedQueryLink({ sha256, useGETForHashedQueries: true });
  return new ApolloClient({
    link: persisted.concat(new HttpLink({ uri: url })),
    cache: new InMemoryCache(),
  });
}

// The data, or the codes of the GraphQL errors the request was refused with.
async function ask(apollo, query) {
  const result = await apollo.query({ query, fetchPolicy: "no-cache", errorPolicy: "all" });
  const errors = result.error?.errors ?? [];
  return { data: result.data ?? null, codes: errors.map((e) => e.extensions?.code ?? null) };
}

async function main() {
  if (mode === "apq") {
    const first = await ask(client(), LISTED);
    const second = await ask(client(), LISTED);
    return { first, second };
  }
  if (mode === "safelist") {
    const listed = await ask(client(), LISTED);
    const unlisted = await ask(client(), UNLISTED);
    return { listed, unlisted };
  }
  throw new Error(`unknown mode ${mode}`);
}

process.stdout.write(JSON.stringify(await main()) + "\n");
