// The trace waterfall of the shopgraph playground. `traced(fetcher)` wraps GraphiQL's
// fetcher: it records the `extensions.trace` of each answer (docs/playground.md) for the
// operation being run, also from every payload of a multipart @defer stream, and passes
// each answer on unchanged, so GraphiQL's result pane still shows the whole response.
// `Waterfall` draws the recorded subgraph calls as bars on a time axis (SVG, sized in
// percent: no inline styles). Exposes window.ShopgraphTrace = { traced, Waterfall }.
(function () {
  'use strict';
  var h = React.createElement;
  var useState = React.useState;
  var useEffect = React.useEffect;
  var hueClass = window.ShopgraphPlanDiagram.hueClass;

  var HEADER = 'shopgraph-trace';
  var MAX_BARS = 500; // bars drawn per run; more are counted, not drawn
  var TICKS = 4;

  // -- recording ---------------------------------------------------------------------

  // The run being shown: {id, name, status: 'running'|'done'|'failed', traces: [...],
  // received: answers of a stream so far}.
  // Answers of an older run arriving late are dropped (their id is not the current one).
  var current = null;
  var runs = 0;
  var listeners = [];

  function publish() {
    listeners.forEach(function (listener) { listener(current); });
  }

  function subscribe(listener) {
    listeners.push(listener);
    return function () { listeners = listeners.filter(function (l) { return l !== listener; }); };
  }

  function update(id, change) {
    if (!current || current.id !== id) return;
    current = Object.assign({}, current, change(current));
    publish();
  }

  function isNumber(value) { return typeof value === 'number' && isFinite(value) && value >= 0; }

  // A trace as the contract describes it, or null: an unexpected shape is ignored.
  function validTrace(trace) {
    if (!trace || trace.version !== 1 || !isNumber(trace.durationMs)) return null;
    if (!Array.isArray(trace.fetches)) return null;
    var ok = trace.fetches.every(function (f) {
      return f && typeof f.service === 'string' && isNumber(f.startMs) && isNumber(f.durationMs);
    });
    return ok ? trace : null;
  }

  // The traces in one answer: a plain result, a multipart chunk (an array of payloads),
  // an incremental payload (its own extensions, and its `incremental` items').
  function tracesIn(value) {
    if (Array.isArray(value)) return [].concat.apply([], value.map(tracesIn));
    if (!value || typeof value !== 'object') return [];
    var found = [];
    var own = value.extensions && validTrace(value.extensions.trace);
    if (own) found.push(own);
    (Array.isArray(value.incremental) ? value.incremental : []).forEach(function (item) {
      var inner = item && item.extensions && validTrace(item.extensions.trace);
      if (inner) found.push(inner);
    });
    return found;
  }

  function record(id, value) {
    var found = tracesIn(value);
    if (found.length) update(id, function (run) { return { traces: run.traces.concat(found) }; });
  }

  function settle(id, status) {
    update(id, function () { return { status: status }; });
  }

  function isAsyncIterable(value) {
    return value != null && typeof value[Symbol.asyncIterator] === 'function';
  }

  // Passes a multipart stream's payloads on as they come, recording each one's trace.
  async function* tap(stream, id) {
    var status = 'failed';
    try {
      for await (var value of stream) {
        update(id, function (run) { return { received: run.received + 1 }; });
        record(id, value);
        yield value;
      }
      status = 'done';
    } finally {
      settle(id, status);
    }
  }

  // Whether the operation run is a subscription (its events carry no trace, and over a
  // WebSocket the headers become the connection_init payload: nothing to ask there).
  function isSubscription(params, options) {
    var document = options && options.documentAST;
    var operations = document ? document.definitions.filter(function (d) {
      return d.kind === 'OperationDefinition';
    }) : [];
    var chosen = operations.find(function (d) {
      return params.operationName ? d.name && d.name.value === params.operationName : true;
    });
    return Boolean(chosen && chosen.operation === 'subscription');
  }

  // Asks for a trace; a `shopgraph-trace` the user set in the headers editor wins.
  function asking(options) {
    var headers = Object.assign({}, options && options.headers);
    var set = Object.keys(headers).some(function (k) { return k.toLowerCase() === HEADER; });
    if (!set) headers[HEADER] = '1';
    return Object.assign({}, options, { headers: headers });
  }

  /** GraphiQL's `fetcher`, asking for and recording the trace of every operation run. */
  function traced(fetcher) {
    return function (params, options) {
      if (params.operationName === 'IntrospectionQuery') return fetcher(params, options);
      if (!isSubscription(params, options)) options = asking(options);
      runs += 1;
      var id = runs;
      current = {
        id: id, name: params.operationName || null, status: 'running', traces: [], received: 0,
      };
      publish();
      return Promise.resolve(fetcher(params, options)).then(function (result) {
        if (isAsyncIterable(result)) return tap(result, id);
        record(id, result);
        settle(id, 'done');
        return result;
      }, function (error) {
        settle(id, 'failed');
        throw error;
      });
    };
  }

  // -- drawing -----------------------------------------------------------------------

  function fixed(ms) { return ms < 10 ? ms.toFixed(2) : ms.toFixed(1); }

  function bars(run) {
    var list = [];
    run.traces.forEach(function (trace) {
      trace.fetches.forEach(function (f) { list.push(f); });
    });
    list.sort(function (a, b) { return a.startMs - b.startMs; });
    return list;
  }

  function totalOf(run, list) {
    var total = 0;
    run.traces.forEach(function (t) { total = Math.max(total, t.durationMs); });
    list.forEach(function (f) { total = Math.max(total, f.startMs + f.durationMs); });
    return total > 0 ? total : 1;
  }

  function describe(f) {
    var parts = [f.service, f.path ? 'entities at ' + f.path : 'root fields',
      'starts at ' + fixed(f.startMs) + ' ms', 'takes ' + fixed(f.durationMs) + ' ms'];
    if (isNumber(f.bytes)) parts.push(f.bytes + ' bytes');
    if (isNumber(f.entities)) parts.push(f.entities + (f.entities === 1 ? ' entity' : ' entities'));
    if (f.deferred) parts.push('deferred part ' + f.deferred);
    return parts.join(' \u00b7 ');
  }

  // A bar is at least 0.4 % wide, so a call under the axis' resolution is still visible.
  function percent(value, total, least) {
    return (Math.max(Math.min(value / total, 1) * 100, least)).toFixed(3) + '%';
  }

  function Bar(props) {
    var f = props.fetch;
    var text = describe(f);
    return h('div', {
      className: 'shopgraph-wf-row' + (f.deferred ? ' shopgraph-wf-deferred' : ''),
      tabIndex: 0, role: 'listitem', 'aria-label': text, title: text,
    },
    h('div', { className: 'shopgraph-wf-label' },
      h('span', { className: 'shopgraph-wf-service' }, f.service),
      h('span', { className: 'shopgraph-wf-path' }, f.path || '(root)'),
      f.deferred ? h('span', { className: 'shopgraph-badge' }, 'deferred') : null),
    h('svg', { className: 'shopgraph-wf-track', 'aria-hidden': 'true', focusable: 'false' },
      h('rect', {
        className: 'shopgraph-wf-bar ' + hueClass(f.service),
        'data-trace-service': f.service,
        x: percent(Math.min(f.startMs, props.total * 0.996), props.total, 0),
        y: 3, height: 12, rx: 2,
        width: percent(f.durationMs, props.total, 0.4),
      }, h('title', null, text))),
    h('span', { className: 'shopgraph-wf-ms' }, fixed(f.durationMs) + ' ms'));
  }

  // A round step (1, 2 or 5 times a power of ten) giving at most TICKS steps up to total.
  function tickStep(total) {
    var rough = total / TICKS;
    var power = Math.pow(10, Math.floor(Math.log10(rough)));
    var step = [1, 2, 5, 10].map(function (m) { return m * power; })
      .find(function (s) { return s >= rough; });
    return step;
  }

  function Axis(props) {
    var step = tickStep(props.total);
    var digits = step >= 1 ? 0 : Math.min(3, Math.ceil(-Math.log10(step)));
    var ticks = [];
    // the last tick stays clear of the right edge so its label is not cut
    for (var i = 0; i * step <= props.total * 0.92 && i <= TICKS; i += 1) {
      ticks.push(h('text', {
        key: i, x: percent(i * step, props.total, 0), y: 12,
        textAnchor: i === 0 ? 'start' : 'middle',
      }, (i * step).toFixed(digits)));
    }
    return h('div', { className: 'shopgraph-wf-row shopgraph-wf-axis', 'aria-hidden': 'true' },
      h('div', { className: 'shopgraph-wf-label' }, 'subgraph \u00b7 path'),
      h('svg', { className: 'shopgraph-wf-track' }, ticks),
      h('span', { className: 'shopgraph-wf-ms' }, 'ms'));
  }

  function summary(run, list, total) {
    var name = run.name ? run.name : 'the operation';
    if (run.status === 'running' && !list.length) return 'Running ' + name + '…';
    return name + ': ' + list.length + (list.length === 1 ? ' subgraph call' : ' subgraph calls') +
      ' in ' + fixed(total) + ' ms' + (run.status === 'running' ? ' so far' : '') +
      (run.traces.length > 1 ? ' (' + run.traces.length + ' payloads)' : '');
  }

  function useRun() {
    var state = useState(current);
    useEffect(function () { return subscribe(state[1]); }, []);
    return state[0];
  }

  /** The waterfall of the last run operation's subgraph calls. */
  function Waterfall() {
    var run = useRun();
    if (!run) {
      return h('p', { className: 'shopgraph-hint', 'data-testid': 'trace-empty' },
        'Run an operation to see when the router called each subgraph.');
    }
    var list = bars(run);
    // a stream (a subscription's events) may never end: its first answer tells
    if (!run.traces.length && (run.status !== 'running' || run.received > 0)) {
      return h('p', { className: 'shopgraph-hint', 'data-testid': 'trace-empty' },
        'The last answer carried no trace: the router adds one to queries and mutations ' +
        'in development (shopgraph dev) or for callers allowed to trace ' +
        '(see docs/playground.md); subscription events carry none.');
    }
    var total = totalOf(run, list);
    var shown = list.slice(0, MAX_BARS);
    return h('div', { className: 'shopgraph-waterfall', 'data-testid': 'trace' },
      h('p', { className: 'shopgraph-wf-summary', 'aria-live': 'polite' },
        summary(run, list, total)),
      h(Axis, { total: total }),
      h('div', { role: 'list', 'aria-label': 'Subgraph calls' }, shown.map(function (f, i) {
        return h(Bar, { key: i, fetch: f, total: total });
      })),
      list.length > shown.length
        ? h('p', { className: 'shopgraph-hint' }, (list.length - shown.length) + ' more not drawn.')
        : null);
  }

  window.ShopgraphTrace = { traced: traced, Waterfall: Waterfall };
})();
