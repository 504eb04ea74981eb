// The shopgraph playground: GraphiQL plus three panes of our own, "Query plan"
// (the router's plan for the operation in the editor, from POST /plan, drawn as a
// diagram by plan-diagram.js or shown as text), "Trace" (the waterfall of the last
// run's subgraph calls, trace-waterfall.js; every request asks for a trace with the
// `shopgraph-trace: 1` header) and "Authorization" (log in through the router or paste
// a token; either sets the Authorization header in GraphiQL's headers editor).
// Subscriptions run over graphql-transport-ws on the same path. Plain React, no build step.
(function () {
  'use strict';
  var h = React.createElement;
  var useState = React.useState;
  var useEffect = React.useEffect;
  var ui = GraphiQL.React;
  var config = JSON.parse(document.getElementById('shopgraph-config').textContent);
  var PlanDiagram = window.ShopgraphPlanDiagram.PlanDiagram;
  var Trace = window.ShopgraphTrace;

  var LOGIN = 'mutation Login($input: LoginInput!) {\n' +
    '  login(input: $input) { token user { id email } userErrors { code message } }\n}';

  function postJson(url, body, headers) {
    return fetch(url, {
      method: 'POST',
      headers: Object.assign(
        { 'content-type': 'application/json', accept: 'application/json' }, headers || {}),
      body: JSON.stringify(body),
    }).then(function (response) { return response.json(); });
  }

  function parseHeaders(text) {
    if (!text || !text.trim()) return {};
    try {
      var value = JSON.parse(text);
      return value && typeof value === 'object' && !Array.isArray(value) ? value : null;
    } catch (e) {
      return null;
    }
  }

  function authorizationOf(headers) {
    for (var key in headers) {
      if (key.toLowerCase() === 'authorization') return headers[key];
    }
    return '';
  }

  // -- Query plan ------------------------------------------------------------------

  // The plan of the operation in the editor, asked of POST /plan a moment after the
  // last keystroke; an answer for an older text is dropped.
  function usePlan(query, operationName) {
    var state = useState({ plan: null, tree: null, error: null, loading: false });
    var setResult = state[1];
    useEffect(function () {
      if (!query || !query.trim()) {
        setResult({ plan: null, tree: null, error: null, loading: false });
        return undefined;
      }
      var cancelled = false;
      var timer = setTimeout(function () {
        setResult(function (old) { return Object.assign({}, old, { loading: true }); });
        postJson(config.planUrl, { query: query, operationName: operationName || null })
          .then(function (body) {
            if (cancelled) return;
            if (typeof body.plan === 'string') {
              setResult({ plan: body.plan, tree: body.tree || null, error: null, loading: false });
            } else {
              var errors = (body.errors || []).map(function (e) { return e.message; });
              setResult({ plan: null, tree: null, error: errors.join('\n') || 'No plan.',
                loading: false });
            }
          })
          .catch(function (error) {
            if (!cancelled) setResult({ plan: null, tree: null, error: String(error), loading: false });
          });
      }, 250);
      return function () { cancelled = true; clearTimeout(timer); };
    }, [query, operationName]);
    return state[0];
  }

  var VIEWS = [{ id: 'diagram', title: 'Diagram' }, { id: 'text', title: 'Text' }];

  // Tabs per the WAI-ARIA tabs pattern: Tab reaches the selected one, arrows move along.
  function ViewTabs(props) {
    function onKeyDown(event) {
      var step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
      if (!step) return;
      event.preventDefault();
      var at = VIEWS.findIndex(function (v) { return v.id === props.view; });
      var next = VIEWS[(at + step + VIEWS.length) % VIEWS.length];
      props.onChange(next.id);
      var tab = document.getElementById('shopgraph-plan-tab-' + next.id);
      if (tab) tab.focus();
    }
    return h('div', { className: 'shopgraph-tabs', role: 'tablist', 'aria-label': 'Plan view',
      onKeyDown: onKeyDown },
    VIEWS.map(function (v) {
      var selected = v.id === props.view;
      return h('button', {
        key: v.id, id: 'shopgraph-plan-tab-' + v.id, type: 'button', role: 'tab',
        className: 'shopgraph-tab' + (selected ? ' shopgraph-tab-selected' : ''),
        'aria-selected': selected ? 'true' : 'false', 'aria-controls': 'shopgraph-plan-view',
        tabIndex: selected ? 0 : -1, onClick: function () { props.onChange(v.id); },
      }, v.title);
    }));
  }

  function planView(result, view) {
    if (result.error) {
      return h('pre', { className: 'shopgraph-plan-error', 'data-testid': 'plan-error' },
        result.error);
    }
    if (!result.plan) {
      return h('p', { className: 'shopgraph-hint' },
        result.loading ? 'Planning…' : 'Write an operation to see its plan.');
    }
    if (view === 'text') {
      return h('pre', { className: 'shopgraph-plan', 'data-testid': 'plan' }, result.plan);
    }
    return h(PlanDiagram, { tree: result.tree });
  }

  function PlanPane() {
    var query = ui.useOperationsEditorState()[0];
    var editors = ui.useEditorContext({ nonNull: true });
    var operationName = editors.queryEditor ? editors.queryEditor.operationName : null;
    var result = usePlan(query, operationName);
    var view = useState('diagram');

    return h('div', { className: 'shopgraph-pane' },
      h('div', { className: 'graphiql-doc-explorer-title' }, 'Query plan'),
      h('p', { className: 'shopgraph-hint' },
        'How the router splits the operation in the editor across subgraphs.'),
      h(ViewTabs, { view: view[0], onChange: view[1] }),
      h('div', {
        id: 'shopgraph-plan-view', role: 'tabpanel',
        'aria-labelledby': 'shopgraph-plan-tab-' + view[0],
      }, planView(result, view[0])));
  }

  function TracePane() {
    return h('div', { className: 'shopgraph-pane' },
      h('div', { className: 'graphiql-doc-explorer-title' }, 'Trace'),
      h('p', { className: 'shopgraph-hint' },
        'When the router called each subgraph for the last operation run (hover or focus a ' +
        'bar for its details).'),
      h(Trace.Waterfall));
  }

  // -- Authorization ---------------------------------------------------------------

  function AuthPane() {
    var headerState = ui.useHeadersEditorState();
    var headersText = headerState[0];
    var setHeadersText = headerState[1];
    var headers = parseHeaders(headersText);
    var current = headers ? authorizationOf(headers) : '';
    var email = useState('alice@example.com');
    var password = useState('');
    var token = useState('');
    var message = useState(null);

    function setAuthorization(value) {
      var next = {};
      var old = parseHeaders(headersText) || {};
      for (var key in old) {
        if (key.toLowerCase() !== 'authorization') next[key] = old[key];
      }
      if (value) next.Authorization = value;
      setHeadersText(Object.keys(next).length ? JSON.stringify(next, null, 2) : '');
    }

    function login(event) {
      event.preventDefault();
      message[1]({ kind: 'info', text: 'Logging in…' });
      postJson(config.endpoint, {
        query: LOGIN,
        operationName: 'Login',
        variables: { input: { email: email[0], password: password[0] } },
      }).then(function (body) {
        var payload = body.data && body.data.login;
        if (payload && payload.token) {
          setAuthorization('Bearer ' + payload.token);
          message[1]({ kind: 'ok', text: 'Logged in as ' + payload.user.email + '.' });
        } else {
          var problems = (payload ? payload.userErrors : body.errors) || [];
          var text = problems.map(function (e) { return e.message; }).join('; ');
          message[1]({ kind: 'error', text: text || 'Login failed.' });
        }
      }).catch(function (error) {
        message[1]({ kind: 'error', text: String(error) });
      });
    }

    function useToken(event) {
      event.preventDefault();
      var value = token[0].trim();
      if (!value) return;
      setAuthorization(/^\S+\s/.test(value) ? value : 'Bearer ' + value);
      message[1]({ kind: 'ok', text: 'Authorization header set.' });
    }

    function field(label, name, value, type) {
      return h('label', { className: 'shopgraph-field' }, label,
        h('input', {
          name: name, type: type || 'text', value: value[0],
          onChange: function (e) { value[1](e.target.value); },
        }));
    }

    return h('div', { className: 'shopgraph-pane' },
      h('div', { className: 'graphiql-doc-explorer-title' }, 'Authorization'),
      h('p', { className: 'shopgraph-hint', 'data-testid': 'auth-current' },
        current ? 'Sending Authorization: ' + current.slice(0, 24) + '…'
          : 'No Authorization header: requests are anonymous.'),
      h('form', { onSubmit: login, 'data-testid': 'login-form' },
        h('h3', null, 'Log in (login mutation through the router)'),
        field('Email', 'email', email),
        field('Password', 'password', password, 'password'),
        h('button', { type: 'submit', className: 'graphiql-button' }, 'Log in')),
      h('form', { onSubmit: useToken },
        h('h3', null, 'Or paste a token'),
        field('Token', 'token', token),
        h('button', { type: 'submit', className: 'graphiql-button' }, 'Use token')),
      current ? h('button', {
        type: 'button', className: 'graphiql-button',
        onClick: function () { setAuthorization(''); message[1](null); },
      }, 'Log out') : null,
      message[0] ? h('p', {
        className: 'shopgraph-message shopgraph-' + message[0].kind, 'data-testid': 'auth-message',
      }, message[0].text) : null);
  }

  function icon(text) {
    return function () { return h('span', { className: 'shopgraph-icon' }, text); };
  }

  var planPlugin = { title: 'Query plan', icon: icon('Plan'), content: PlanPane };
  var tracePlugin = { title: 'Trace', icon: icon('Trace'), content: TracePane };
  var authPlugin = { title: 'Authorization', icon: icon('Auth'), content: AuthPane };

  function webSocketUrl(path) {
    var url = new URL(path, window.location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    return url.href;
  }

  var params = new URLSearchParams(window.location.search);
  var props = {
    // Every operation run asks for a trace (`traced`); the router ignores the header
    // unless it allows tracing (development, or a caller with a trace scope).
    // Subscriptions go over graphql-transport-ws on the same path; the headers editor's
    // headers (Authorization) become the connection_init payload.
    fetcher: Trace.traced(GraphiQL.createFetcher({
      url: config.endpoint, subscriptionUrl: webSocketUrl(config.endpoint),
    })),
    plugins: [planPlugin, tracePlugin, authPlugin],
    visiblePlugin: planPlugin,
    defaultQuery: config.defaultQuery,
    shouldPersistHeaders: true,
    defaultEditorToolsVisibility: 'headers',
  };
  if (params.get('query')) props.query = params.get('query');
  if (params.get('variables')) props.variables = params.get('variables');

  // A wider plugin pane than GraphiQL's default (a quarter of the page), so the plan
  // diagram and the waterfall are readable at 1280 px; once the user drags the divider,
  // GraphiQL keeps their width under the same key and this leaves it alone.
  var PANE_WIDTH_KEY = 'graphiql:docExplorerFlex';
  try {
    if (window.localStorage.getItem(PANE_WIDTH_KEY) === null) {
      window.localStorage.setItem(PANE_WIDTH_KEY, '0.5');
    }
  } catch (e) { /* storage disabled: GraphiQL's default width */ }

  function App() {
    var visible = useState(planPlugin);
    return h(GraphiQL, Object.assign({}, props, {
      visiblePlugin: visible[0],
      onTogglePluginVisibility: function (plugin) { visible[1](plugin); },
    }));
  }

  ReactDOM.createRoot(document.getElementById('graphiql')).render(h(App));
})();
