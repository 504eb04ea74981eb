"""Payment gateways behind one small interface (base.py): the fake one (fake.py) and
Stripe's PaymentIntents (stripe.py), chosen by SHOPGRAPH_PAYMENT_GATEWAY."""
