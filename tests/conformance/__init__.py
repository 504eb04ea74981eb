"""Federation conformance suite: scenario folders run through router.Router."""
