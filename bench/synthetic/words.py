"""Names the synthetic graph is written with: subgraph domains, type nouns, field words."""

DOMAINS = (
    "accounts", "addresses", "analytics", "assets", "billing", "bundles", "carts",
    "catalog", "checkout", "compliance", "content", "coupons", "customers", "delivery",
    "discovery", "documents", "events", "experiments", "feeds", "fraud", "fulfillment",
    "gifts", "identity", "insurance", "inventory", "invoices", "labels", "locations",
    "loyalty", "marketing", "media", "messaging", "notifications", "offers", "orders",
    "partners", "payments", "pricing", "products", "promotions", "ratings",
    "recommendations", "returns", "reviews", "search", "sellers", "shipping",
    "subscriptions", "support", "taxes",
)

NOUNS = (
    "Account", "Address", "Adjustment", "Agent", "Agreement", "Alert", "Allocation",
    "Answer", "Approval", "Article", "Asset", "Attachment", "Attribute", "Audit", "Badge",
    "Balance", "Banner", "Batch", "Benefit", "Bid", "Brand", "Bucket", "Budget", "Bundle",
    "Campaign", "Carrier", "Case", "Category", "Certificate", "Channel", "Charge", "Claim",
    "Clip", "Collection", "Comment", "Condition", "Contact", "Contract", "Coupon",
    "Credit", "Dashboard", "Deal", "Device", "Dispute", "Document", "Draft", "Entry",
    "Estimate", "Exception", "Exemption", "Export", "Facility", "Feature", "Fee", "Feed",
    "Filing", "Flag", "Forecast", "Gallery", "Goal", "Grant", "Group", "Hold", "Image",
    "Import", "Incident", "Item", "Journey", "Label", "Lane", "Ledger", "Limit", "Listing",
    "Lot", "Manifest", "Member", "Message", "Metric", "Milestone", "Note", "Offer",
    "Option", "Package", "Page", "Partner", "Payout", "Period", "Plan", "Policy", "Pool",
    "Profile", "Program", "Quote", "Rate", "Reason", "Receipt", "Record", "Refund",
    "Region", "Report", "Request", "Reservation", "Rule", "Schedule", "Segment", "Session",
    "Shipment", "Signal", "Slot", "Snapshot", "Source", "Statement", "Step", "Store",
    "Survey", "Task", "Template", "Tier", "Ticket", "Token", "Transfer", "Trend", "Unit",
    "Vendor", "Version", "Visit", "Voucher", "Warehouse", "Window", "Zone",
)

SUFFIXES = ("Detail", "Summary", "Info", "Line", "Setting", "Status", "Change", "Link")

FIELD_WORDS = (
    "active", "amount", "approved", "archived", "available", "balance", "barcode",
    "capacity", "caption", "category", "checksum", "city", "closed", "code", "color",
    "comment", "confidence", "count", "country", "created", "currency", "depth",
    "description", "discount", "distance", "duration", "email", "enabled", "expires",
    "external", "featured", "fingerprint", "format", "height", "hidden", "label",
    "language", "latitude", "length", "level", "locale", "longitude", "margin", "name",
    "notes", "number", "opened", "origin", "owner", "percent", "phone", "position",
    "postal", "price", "priority", "quantity", "rank", "ratio", "reason", "reference",
    "remaining", "revision", "score", "sequence", "size", "slug", "source", "starts",
    "state", "subtitle", "summary", "tag", "target", "tax", "timezone", "title", "total",
    "tracking", "updated", "url", "valid", "value", "verified", "version", "volume",
    "weight", "width",
)

FIELD_SUFFIXES = (
    "Text", "Value", "Count", "Code", "Label", "At", "Total", "Score", "Hint", "Key",
    "Level", "Note", "Id", "Name", "Limit", "Rate",
)

ENUM_VALUES = (
    "ACTIVE", "ARCHIVED", "BLOCKED", "CANCELLED", "CLOSED", "COMPLETE", "DRAFT", "EXPIRED",
    "FAILED", "HIGH", "LOW", "MEDIUM", "NEW", "OPEN", "PAUSED", "PENDING", "PUBLISHED",
    "REJECTED", "RETIRED", "REVIEW", "SCHEDULED", "SENT", "STALE", "UNKNOWN",
)
