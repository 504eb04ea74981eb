// The query-plan diagram of the shopgraph playground: draws the `tree` of POST /plan
// (docs/playground.md, "Plan as JSON") as boxes laid out with CSS (a Sequence's stages
// top to bottom, a Parallel's branches side by side) and the dependency edges as an SVG
// overlay measured from the boxes once they are laid out. Exposes
// window.ShopgraphPlanDiagram = { PlanDiagram, hueClass }. Plain React, no build step,
// no inline styles (every colour is a class), so it needs no CSP exception.
(function () {
  'use strict';
  var h = React.createElement;
  var useState = React.useState;
  var useRef = React.useRef;
  var useLayoutEffect = React.useLayoutEffect;

  // Bounds on what is drawn: a plan beyond them is shown as text only.
  var MAX_DEPTH = 48;
  var MAX_FETCHES = 400;
  var MAX_EDGES = 2000;
  var HUES = 12; // playground.css has a class per hue

  function TooBig(reason) { this.reason = reason; }

  /** A colour class for a subgraph name, the same in the diagram and the waterfall. */
  function hueClass(service) {
    var hash = 0;
    for (var i = 0; i < service.length; i += 1) hash = (hash * 41 + service.charCodeAt(i)) | 0;
    return 'shopgraph-hue-' + (Math.abs(hash) % HUES);
  }

  // -- building the boxes and the edges from the tree ------------------------------

  // A walk of the tree that returns, per node, its React element and the keys of the
  // fetch boxes an incoming edge ends at (entries) and an outgoing one starts from
  // (exits). `state` collects the edges and maps fetch ids to box keys.
  function newState(select) {
    return { fetches: 0, edges: [], byFetchId: {}, pending: [], select: select, all: {} };
  }

  function link(state, fromKeys, toKeys, kind) {
    fromKeys.forEach(function (from) {
      toKeys.forEach(function (to) {
        if (state.edges.length >= MAX_EDGES) throw new TooBig('too many edges to draw');
        state.edges.push({ from: from, to: to, kind: kind });
      });
    });
  }

  function caption(text, extra) {
    return h('div', { className: 'shopgraph-caption' }, text, extra || null);
  }

  function fetchBox(fetch, path, state) {
    state.fetches += 1;
    if (state.fetches > MAX_FETCHES) throw new TooBig('more than ' + MAX_FETCHES + ' fetches');
    var key = 'f' + state.fetches;
    state.byFetchId[fetch.id] = key;
    var where = path ? path.join('.') : null;
    var label = 'Fetch ' + fetch.id + ' from ' + fetch.service +
      (where ? ', entities at ' + where : ', root fields');
    state.all[key] = { id: fetch.id, service: fetch.service, path: where,
      operation: fetch.operation };
    function select() { state.select(key); }
    var element = h('div', {
      key: key,
      className: 'shopgraph-fetch ' + hueClass(fetch.service) +
        (fetch.entities ? ' shopgraph-entities' : ''),
      'data-fetch-service': fetch.service,
      'data-fetch-id': fetch.id,
      'data-node-key': key,
      title: fetch.operation,
      'aria-label': label,
      role: 'button',
      tabIndex: 0,
      onClick: select,
      onFocus: select,
    },
    h('span', { className: 'shopgraph-fetch-id' }, '#' + fetch.id),
    h('span', { className: 'shopgraph-fetch-service' }, fetch.service),
    where ? h('span', { className: 'shopgraph-fetch-path' }, '\u2937\u00a0' + where) : null);
    return { element: element, entries: [key], exits: [key] };
  }

  function group(kind, key, title, children, extraClass) {
    return h('div', {
      key: key,
      className: 'shopgraph-group shopgraph-' + kind + (extraClass ? ' ' + extraClass : ''),
      role: 'group',
      'aria-label': typeof title === 'string' ? title : kind,
    }, caption(title), h('div', { className: 'shopgraph-group-body' }, children));
  }

  function sequence(node, state, depth, key) {
    var built = node.nodes.map(function (child, i) {
      return build(child, state, depth + 1, key + '.' + i);
    });
    for (var i = 1; i < built.length; i += 1) {
      link(state, built[i - 1].exits, built[i].entries, 'stage');
    }
    var body = built.map(function (b) { return b.element; });
    return {
      element: group('sequence', key, 'Sequence', body),
      entries: built.length ? built[0].entries : [],
      exits: built.length ? built[built.length - 1].exits : [],
    };
  }

  function parallel(node, state, depth, key) {
    var built = node.nodes.map(function (child, i) {
      return build(child, state, depth + 1, key + '.' + i);
    });
    return {
      element: group('parallel', key, 'Parallel', built.map(function (b) { return b.element; })),
      entries: [].concat.apply([], built.map(function (b) { return b.entries; })),
      exits: [].concat.apply([], built.map(function (b) { return b.exits; })),
    };
  }

  function branch(title, node, state, depth, key) {
    var built = node ? build(node, state, depth + 1, key) : null;
    var body = built ? built.element : h('p', { className: 'shopgraph-empty' }, 'nothing to fetch');
    return {
      element: h('div', { key: key, className: 'shopgraph-branch' }, caption(title), body),
      entries: built ? built.entries : [],
      exits: built ? built.exits : [],
    };
  }

  function condition(node, state, depth, key) {
    var yes = branch('Include (if $' + node.variable + ')', node['if'], state, depth, key + '.if');
    var no = branch('Skip (unless $' + node.variable + ')', node['else'], state, depth, key + '.el');
    return {
      element: group('condition', key, 'Condition on $' + node.variable,
        [yes.element, no.element]),
      entries: yes.entries.concat(no.entries),
      exits: yes.exits.concat(no.exits),
    };
  }

  function deferredPart(part, state, depth, key) {
    var name = part.label ? 'Deferred "' + part.label + '"' : 'Deferred';
    var at = part.path.length ? ' at ' + part.path.join('.') : ' at the root';
    var after = part.depends.length ? ', after #' + part.depends.join(', #') : '';
    var built = part.node ? build(part.node, state, depth + 1, key + '.n') : null;
    // Its depends edges are drawn once every fetch id of the plan has a box.
    if (built) state.pending.push({ depends: part.depends, entries: built.entries });
    return h('div', {
      key: key, className: 'shopgraph-deferred', role: 'group', 'aria-label': name + at,
    },
    caption(name + at + after, h('span', { className: 'shopgraph-badge' }, 'deferred')),
    h('code', { className: 'shopgraph-subselection', title: part.subselection },
      part.subselection),
    built ? built.element
      : h('p', { className: 'shopgraph-empty' }, 'no fetch: its fields are already fetched'));
  }

  function defer(node, state, depth, key) {
    var primary = branch('Primary', node.primary, state, depth, key + '.p');
    var parts = node.deferred.map(function (part, i) {
      return deferredPart(part, state, depth, key + '.d' + i);
    });
    return {
      element: group('defer', key, 'Defer', [primary.element].concat(parts)),
      entries: primary.entries,
      exits: primary.exits,
    };
  }

  function subscription(node, state, depth, key) {
    var primary = branch('Primary: the subscription', node.primary, state, depth, key + '.p');
    var rest = branch('Rest: run for each event', node.rest, state, depth, key + '.r');
    link(state, primary.exits, rest.entries, 'event');
    return {
      element: group('subscription', key, 'Subscription', [primary.element, rest.element]),
      entries: primary.entries,
      exits: primary.exits,
    };
  }

  var BUILDERS = {
    Sequence: sequence,
    Parallel: parallel,
    Condition: condition,
    Defer: defer,
    Subscription: subscription,
  };

  function build(node, state, depth, key) {
    if (depth > MAX_DEPTH) throw new TooBig('nested deeper than ' + MAX_DEPTH + ' levels');
    if (node.kind === 'Fetch') return fetchBox(node, null, state);
    if (node.kind === 'Flatten') return fetchBox(node.node, node.path, state);
    var builder = BUILDERS[node.kind];
    if (!builder) throw new TooBig('a node of unknown kind ' + JSON.stringify(node.kind));
    return builder(node, state, depth, key);
  }

  /** The diagram's element and its edges for a plan tree, or {error} when it is too big. */
  function layout(tree, select) {
    var state = newState(select);
    try {
      var root = build(tree.node, state, 0, 'n');
      state.pending.forEach(function (wait) {
        var from = wait.depends.map(function (id) { return state.byFetchId[id]; })
          .filter(function (k) { return k; });
        link(state, from, wait.entries, 'deferred');
      });
      return {
        element: root.element, edges: state.edges, fetches: state.fetches, all: state.all,
      };
    } catch (error) {
      if (error instanceof TooBig) return { error: error.reason };
      throw error;
    }
  }

  // -- the edges, measured from the laid-out boxes -----------------------------------

  function boxesOf(container) {
    var origin = container.getBoundingClientRect();
    var boxes = {};
    container.querySelectorAll('[data-node-key]').forEach(function (el) {
      var r = el.getBoundingClientRect();
      boxes[el.getAttribute('data-node-key')] = {
        x: r.left - origin.left + container.scrollLeft,
        y: r.top - origin.top + container.scrollTop,
        w: r.width,
        h: r.height,
      };
    });
    return boxes;
  }

  function edgePath(a, b) {
    var x1 = a.x + a.w / 2;
    var y1 = a.y + a.h;
    var x2 = b.x + b.w / 2;
    var y2 = b.y - 3; // stop short so the arrowhead stays visible
    var bend = Math.max(12, Math.abs(y2 - y1) / 2);
    return 'M' + x1.toFixed(1) + ' ' + y1.toFixed(1) + ' C' + x1.toFixed(1) + ' ' +
      (y1 + bend).toFixed(1) + ' ' + x2.toFixed(1) + ' ' + (y2 - bend).toFixed(1) + ' ' +
      x2.toFixed(1) + ' ' + y2.toFixed(1);
  }

  function measure(container, edges) {
    var boxes = boxesOf(container);
    var paths = edges.map(function (edge) {
      var a = boxes[edge.from];
      var b = boxes[edge.to];
      return a && b ? { d: edgePath(a, b), kind: edge.kind } : null;
    }).filter(function (p) { return p; });
    return { width: container.scrollWidth, height: container.scrollHeight, paths: paths };
  }

  function sameDrawing(a, b) {
    return a && b && a.width === b.width && a.height === b.height &&
      a.paths.length === b.paths.length &&
      a.paths.every(function (p, i) { return p.d === b.paths[i].d; });
  }

  // Re-measures after every layout change of the container (a pane resize, a new plan).
  function useEdges(ref, edges) {
    var drawing = useState(null);
    var current = drawing[0];
    var setDrawing = drawing[1];
    useLayoutEffect(function () {
      var container = ref.current;
      if (!container) return undefined;
      function update() {
        var next = measure(container, edges);
        setDrawing(function (old) { return sameDrawing(old, next) ? old : next; });
      }
      update();
      if (typeof ResizeObserver === 'undefined') return undefined;
      var observer = new ResizeObserver(update);
      observer.observe(container);
      if (container.lastElementChild) observer.observe(container.lastElementChild);
      return function () { observer.disconnect(); };
    }, [ref, edges]);
    return current;
  }

  function Edges(props) {
    var d = props.drawing;
    if (!d) return null;
    return h('svg', {
      className: 'shopgraph-edges', width: d.width, height: d.height,
      'aria-hidden': 'true', focusable: 'false',
    },
    h('defs', null, h('marker', {
      id: 'shopgraph-arrow', viewBox: '0 0 8 8', refX: 7, refY: 4,
      markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse',
    }, h('path', { d: 'M0 0 L8 4 L0 8 z', className: 'shopgraph-arrowhead' }))),
    d.paths.map(function (p, i) {
      return h('path', {
        key: i, d: p.d, className: 'shopgraph-edge shopgraph-edge-' + p.kind,
        markerEnd: 'url(#shopgraph-arrow)',
      });
    }));
  }

  function FetchDetails(props) {
    var fetch = props.fetch;
    if (!fetch) {
      return h('p', { className: 'shopgraph-hint' },
        'Select a fetch (click, or Tab to it) to see the operation it sends.');
    }
    return h('div', { className: 'shopgraph-fetch-details', 'aria-live': 'polite' },
      h('div', { className: 'shopgraph-caption' }, 'Fetch #' + fetch.id + ' to ' + fetch.service +
        (fetch.path ? ', entities at ' + fetch.path : '')),
      h('pre', { className: 'shopgraph-plan' }, fetch.operation));
  }

  /** The plan diagram for a `tree` from POST /plan (null tree node: nothing to fetch). */
  function PlanDiagram(props) {
    var ref = useRef(null);
    var selection = useState(null);
    var drawn = React.useMemo(function () {
      var tree = props.tree;
      function select(key) { selection[1]({ tree: tree, key: key }); }
      return tree && tree.node ? layout(tree, select) : null;
    }, [props.tree]);
    var drawing = useEdges(ref, drawn && !drawn.error ? drawn.edges : null);
    var chosen = selection[0];
    if (!props.tree) {
      return h('p', { className: 'shopgraph-hint' }, 'This router sent no plan diagram data.');
    }
    if (!drawn) {
      return h('p', { className: 'shopgraph-hint', 'data-testid': 'plan-diagram-empty' },
        'Nothing to fetch: the router answers this operation by itself.');
    }
    if (drawn.error) {
      return h('p', { className: 'shopgraph-hint', 'data-testid': 'plan-diagram-too-big' },
        'The plan is too large to draw (' + drawn.error + '); see the text plan.');
    }
    return h(React.Fragment, null,
      h('div', {
        className: 'shopgraph-diagram', ref: ref, 'data-testid': 'plan-diagram', role: 'figure',
        'aria-label': 'Query plan diagram: ' + drawn.fetches + ' fetches',
      }, h(Edges, { drawing: drawing }), drawn.element),
      h(FetchDetails, { fetch: chosen && chosen.tree === props.tree ? drawn.all[chosen.key] : null }));
  }

  window.ShopgraphPlanDiagram = { PlanDiagram: PlanDiagram, hueClass: hueClass };
})();
