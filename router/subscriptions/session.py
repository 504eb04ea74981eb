"""Running subscriptions: each one's stream of client payloads, and the process-wide
registry (the total cap, the metrics, what a supergraph reload stops).

A subscription's stream subscribes to the subgraph that owns its root field
(upstream.py) and turns each event into the client's payload: the rest of the plan
run on the event's data and shaped (`Router.execute_event`). The client protocols
(router/server/ws.py, sse.py) only send what `SubscriptionRegistry.run` emits.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from router.config import SubscriptionsConfig
from router.errors import RequestError, coded_error
from router.planner.nodes import Subscribe
from router.prepared import PreparedOperation
from router.subscriptions.clients import ClientCounts
from router.subscriptions.upstream import UpstreamError, UpstreamSubscription

if TYPE_CHECKING:
    from router.core import Router
    from router.server.headers import ClientRequest
    from router.server.metrics import RouterMetrics

log = logging.getLogger("shopgraph.router.subscriptions")

Emit = Callable[[dict[str, Any]], Awaitable[None]]
Errors = list[dict[str, Any]]
# admits a running subscription again on a reloaded router (RequestError: refused now)
Readmit = Callable[["Router", "Admitted"], Awaitable["Admitted"]]

# headers sent to a subgraph when the router has no propagation rules (a bare Router)
_DEFAULT_FORWARDED = ("authorization", "x-request-id")


class SubscriptionLimit(Exception):
    """No room for one more subscription; `errors` say so to the client."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.errors = [coded_error(message, "SUBSCRIPTION_LIMIT")]


@dataclass
class Admitted:
    """An operation ready to run: prepared (and authorized) by `router`, its variables
    coerced, with the headers its subgraph requests propagate from."""

    router: Router
    prepared: PreparedOperation
    variables: dict[str, Any]
    headers: ClientRequest  # with the caller's claims (what a reload authorizes again)
    # what the client sent (the text an APQ hash or manifest id stands for): a reload
    # admits it again on the new router
    query: str
    operation_name: str | None
    raw_variables: Mapping[str, Any] | None

    @property
    def is_subscription(self) -> bool:
        """Whether it is a subscription (else a query or mutation: one result)."""
        return self.prepared.operation.kind == "subscription"


class Running:
    """One running subscription: what it runs, its task, and why the router stopped it."""

    def __init__(self, admitted: Admitted, client: str = "") -> None:
        self.admitted = admitted
        self.client = client  # its client's address (ClientCounts)
        self.task: asyncio.Task[Any] | None = None
        self.stopped: Errors | None = None
        # admitted on a router a reload had replaced by the time it was reserved: the
        # reload's check missed it, so it is checked before it starts
        self.stale = False

    def stop(self, errors: Errors) -> None:
        """End the subscription with `errors` (reported to its client)."""
        if self.stopped is None:
            self.stopped = errors
            if self.task is not None:
                self.task.cancel()


def _init_payload(router: Router, service: str, headers: Mapping[str, str]) -> dict[str, str]:
    """The headers the router's rules propagate to `service`: the connection_init payload."""
    settings = getattr(router.client, "settings", None)
    propagate = getattr(settings, "propagate", None)
    if propagate is not None:
        return dict(propagate(service, headers))
    return {name: headers[name] for name in _DEFAULT_FORWARDED if name in headers}


def _upstream(
    admitted: Admitted, subscribe: Subscribe, settings: SubscriptionsConfig
) -> UpstreamSubscription | Errors:
    """The subscription on the subgraph that owns the root field (not yet opened), or
    the errors saying why there is none."""
    primary = subscribe.primary
    url = admitted.router.client.urls.get(primary.service)
    if not url:
        message = f"No URL known for subgraph '{primary.service}'."
        return [coded_error(message, "INTERNAL_SERVER_ERROR")]
    variables = {
        n: admitted.variables[n] for n in primary.variable_usages if n in admitted.variables
    }
    return UpstreamSubscription(
        primary.service,
        url,
        _init_payload(admitted.router, primary.service, admitted.headers),
        {"query": primary.operation, "variables": variables},
        settings,
    )


async def stream(admitted: Admitted, settings: SubscriptionsConfig, emit: Emit) -> Errors | None:
    """Emit the client's payload for every event of the subscription until the subgraph
    completes it (None) or it fails (its errors)."""
    router, prepared = admitted.router, admitted.prepared
    if prepared.rejected:
        return list(prepared.unauthorized)
    subscribe = prepared.plan.node
    if not isinstance(subscribe, Subscribe):
        if prepared.unauthorized:  # authorization removed all it selects: answered as a query
            await emit(
                await router.execute_prepared(prepared, admitted.variables, admitted.headers)
            )
            return None
        # validation leaves no other subscription without a subgraph to subscribe to
        return [coded_error("The subscription has no plan to run.", "QUERY_PLANNING_FAILED")]
    upstream = _upstream(admitted, subscribe, settings)
    if isinstance(upstream, list):
        return upstream
    task = asyncio.current_task()
    try:
        async with upstream:
            async for event in upstream:
                payload = await router.execute_event(
                    prepared, admitted.variables, event, admitted.headers
                )
                if task is not None and task.cancelling():
                    # a cancellation some await swallowed (Python 3.11's wait_for does,
                    # gh-86296): the client is gone, so the stream stops all the same
                    raise asyncio.CancelledError
                await emit(payload)
    except UpstreamError as error:
        return error.errors
    return None


# an operation failing this close to the token's `exp` failed because of it: a subgraph
# (whose clock may run a little ahead) drops an expiring token's socket as well, and the
# client is told of the expiry rather than of that failure
EXPIRY_SLACK = 1.0


def expiry(claims: Mapping[str, Any] | None) -> float | None:
    """The event loop's time at which a token with these claims expires (None: no `exp`)."""
    exp = (claims or {}).get("exp")
    if not isinstance(exp, int | float) or isinstance(exp, bool):
        return None
    return asyncio.get_running_loop().time() + (exp - time.time())


def same_outcome(before: PreparedOperation, after: PreparedOperation) -> bool:
    """Whether two admissions of one operation run alike: the same authorized plan and
    the same parts refused (a reload that hides a field changes the one or the other)."""
    return (
        before.rejected == after.rejected
        and before.unauthorized == after.unauthorized
        and str(before.plan) == str(after.plan)
    )


def reload_errors() -> Errors:
    """What a subscription stopped by a supergraph reload reports (as Apollo Router)."""
    return [
        coded_error(
            "The subscription was closed: the supergraph changed and its plan no longer "
            "holds. Subscribe again.",
            "SUBSCRIPTION_SCHEMA_RELOAD",
        )
    ]


class SubscriptionRegistry:
    """The subscriptions running in one router process."""

    def __init__(
        self,
        settings: SubscriptionsConfig,
        metrics: RouterMetrics | None,
        trusted_proxies: Sequence[str] = (),
    ) -> None:
        """`trusted_proxies`: `traffic.trusted_proxies` (who may name the client)."""
        self.settings = settings
        self.metrics = metrics
        self.running: set[Running] = set()
        self.clients = ClientCounts(settings.max_per_client, trusted_proxies)
        self._checks: set[asyncio.Task[None]] = set()
        # the router of the latest reload and how to admit on it (None: never reloaded)
        self._reload: tuple[Router, Readmit] | None = None

    def reserve(self, admitted: Admitted) -> Running:
        """Count a subscription in; SubscriptionLimit past `max_total`, or past
        `max_per_client` for its client's address."""
        if len(self.running) >= self.settings.max_total:
            raise SubscriptionLimit(
                f"The router runs {self.settings.max_total} subscriptions already "
                "(subscriptions.max_total); retry later."
            )
        client = self.clients.client(admitted.headers)
        if not self.clients.take(client):
            raise SubscriptionLimit(
                f"This client runs {self.settings.max_per_client} subscriptions already "
                "(subscriptions.max_per_client); end one first."
            )
        running = Running(admitted, client)
        # no await between this check and adding it: a reload either sees it running or
        # came before, and then it is stale
        running.stale = self._reload is not None and admitted.router is not self._reload[0]
        self.running.add(running)
        if self.metrics is not None:
            self.metrics.subscription_started()
        return running

    async def run(self, running: Running, emit: Emit) -> Errors | None:
        """Stream the reserved subscription through `emit` (None: completed; else its
        errors); it is counted out when this returns or is cancelled. One admitted before
        a reload is first admitted again on the new router (see `reloaded`)."""
        metrics = self.metrics

        async def counted(payload: dict[str, Any]) -> None:
            """`emit`, counted."""
            await emit(payload)
            if metrics is not None:
                metrics.subscription_event()

        try:
            if running.stale and self._reload is not None:
                await self._check(*self._reload, [running])
            running.task = asyncio.current_task()
            if running.stopped is not None:
                return running.stopped
            return await stream(running.admitted, self.settings, counted)
        except asyncio.CancelledError:
            task = running.task
            if running.stopped is None or task is None or task.cancelling() > 1:
                raise  # cancelled by its owner (the client left), not stopped by us
            task.uncancel()
            return running.stopped
        finally:
            self.release(running)

    def release(self, running: Running) -> None:
        """Count a subscription out (once, however often it is called)."""
        if running in self.running:
            self.running.discard(running)
            self.clients.give_back(running.client)
            if self.metrics is not None:
                self.metrics.subscription_ended()

    def reloaded(self, router: Router, readmit: Readmit) -> None:
        """A new supergraph is served by `router`: admit each running subscription again
        on it (`readmit`: prepared, authorized for its caller, variables coerced) and stop
        those that would not run alike (checked in the background). One admitted on an
        older router but not yet reserved is checked when it is (`reserve`, `run`)."""
        self._reload = (router, readmit)
        if not self.running:
            return
        checking = self._check(router, readmit, list(self.running))
        task = asyncio.get_running_loop().create_task(checking)
        self._checks.add(task)
        task.add_done_callback(self._checks.discard)

    async def _check(self, router: Router, readmit: Readmit, running: list[Running]) -> None:
        for one in running:
            if one.stopped is not None:
                continue
            admitted = one.admitted
            try:
                fresh = await readmit(router, admitted)
            except RequestError:  # no longer valid, or its variables no longer fit
                one.stop(reload_errors())
                continue
            except Exception:  # a bug in planning: stop it rather than run a stale plan
                log.exception("admitting a subscription again after a reload failed")
                one.stop(reload_errors())
                continue
            if not same_outcome(admitted.prepared, fresh.prepared) or (
                fresh.variables != admitted.variables
            ):
                one.stop(reload_errors())


def refuse_subscription(
    settings: SubscriptionsConfig, streaming: bool, media: str
) -> tuple[int, dict[str, Any], None] | None:
    """Why a subscription may not run here, as (status, body, headers); None if it may.
    `media`: the response's media type (application/json answers errors with 200)."""
    if not settings.enabled:
        status = 200 if media == "application/json" else 400
        message = "Subscriptions are disabled on this router (subscriptions.enabled)."
        return status, {"errors": [coded_error(message, "SUBSCRIPTIONS_NOT_SUPPORTED")]}, None
    if not streaming:
        message = (
            "A subscription needs a stream: send Accept: text/event-stream (graphql-sse) "
            "or use a graphql-transport-ws WebSocket."
        )
        return 406, {"errors": [coded_error(message, "SUBSCRIPTION_STREAM_REQUIRED")]}, None
    return None
