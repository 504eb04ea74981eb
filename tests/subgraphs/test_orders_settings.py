"""The orders subgraph's settings: the environment read once, the caller's values winning."""

from datetime import timedelta

import pytest

from subgraphs.orders.settings import OrdersSettings
from subgraphs.payments.settings import PaymentsSettings

ENV = {
    "SHOPGRAPH_INVENTORY_URL": "http://inventory:4003/graphql",
    "SHOPGRAPH_PAYMENTS_URL": "http://payments:4006/graphql",
    "SHOPGRAPH_UPSTREAM_TIMEOUT": "2.5",
    "SHOPGRAPH_RESERVATION_TTL_SECONDS": "60",
    "SHOPGRAPH_PAYMENT_CLAIM_TTL_SECONDS": "90.5",
    "SHOPGRAPH_PAYMENTS_CALL_TIMEOUT": "4.5",
    "SHOPGRAPH_PAYMENT_TIMEOUT": "30",  # payments' per gateway call: not orders' business
    "SHOPGRAPH_SWEEP_SECONDS": "",
}


def test_the_environment_fills_what_the_caller_leaves_unset() -> None:
    settings = OrdersSettings.from_env(ENV, products_url="http://p/graphql", sweep_interval=0)
    assert settings == OrdersSettings(
        inventory_url="http://inventory:4003/graphql",
        products_url="http://p/graphql",
        payments_url="http://payments:4006/graphql",
        upstream_timeout=2.5,
        reservation_ttl=timedelta(seconds=60),
        sweep_interval=0,
        payment_claim_ttl=timedelta(seconds=90.5),
        payments_call_timeout=4.5,
    )


def test_the_caller_wins_over_the_environment_and_none_means_unset() -> None:
    settings = OrdersSettings.from_env(ENV, upstream_timeout=7.0, inventory_url=None)
    assert (settings.upstream_timeout, settings.inventory_url) == (
        7.0,
        "http://inventory:4003/graphql",
    )
    assert OrdersSettings.from_env({}) == OrdersSettings()
    assert OrdersSettings().payments_url == "http://127.0.0.1:4006/graphql"


def test_an_unknown_setting_is_refused() -> None:
    with pytest.raises(TypeError, match="unknown orders settings: sweep_seconds"):
        OrdersSettings.from_env({}, sweep_seconds=1)


def test_payments_reads_its_charge_budget_apart_from_its_gateway_timeout() -> None:
    env = {"SHOPGRAPH_PAYMENT_CHARGE_BUDGET_SECONDS": "3.5", "SHOPGRAPH_PAYMENT_TIMEOUT": "8"}
    settings = PaymentsSettings.from_env(env)
    assert (settings.charge_budget, settings.timeout) == (3.5, 8.0)
