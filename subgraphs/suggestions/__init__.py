"""suggestions: "bought together" products and a user's recommendations, counted from
the shop's events (OrderPlaced, PaymentCaptured or OrderPaid, OrderCancelled)."""
