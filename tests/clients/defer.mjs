// Apollo Client's @defer support (deferSpec=20220824 over multipart/mixed) against a
// running shopgraph router.
//
//   node defer.mjs <router /graphql URL>
//
// Watches one query with a deferred fragment and prints, as JSON lines: `{"primary":
// ...}` as soon as the first result arrives (the test holds the deferred fetch until it
// reads that line), then `{"results": [...], "plain": ...}`: every result the client
// emitted, in order, and the answer to the same query without @defer.
import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { Defer20220824Handler } from "@apollo/client/incremental";

const [url] = process.argv.slice(2);
const DEFERRED = gql`
  query Stock {
    catalog {
      id
      name
      ... @defer(label: "stock") {
        inStock
      }
    }
  }
`;
const PLAIN = gql`
  query Plain {
    catalog {
      id
      name
      inStock
    }
  }
`;

function client() {
  return new ApolloClient({
    link: new HttpLink({ uri: url }),
    cache: new InMemoryCache(),
    incrementalHandler: new Defer20220824Handler(),
  });
}

function watch(apollo) {
  return new Promise((resolve, reject) => {
    const results = [];
    const observable = apollo.watchQuery({ query: DEFERRED, fetchPolicy: "no-cache" });
    const subscription = observable.subscribe({
      next(result) {
        if (result.loading && result.data === undefined) return;
        results.push({ dataState: result.dataState, data: result.data });
        if (results.length === 1) {
          process.stdout.write(JSON.stringify({ primary: result.data }) + "\n");
        }
        if (result.dataState === "complete") {
          subscription.unsubscribe();
          resolve(results);
        }
      },
      error: reject,
    });
  });
}

const results = await watch(client());
const plain = await client().query({ query: PLAIN, fetchPolicy: "no-cache" });
process.stdout.write(JSON.stringify({ results, plain: plain.data }) + "\n");
