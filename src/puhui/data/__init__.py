"""puhui.data: source contracts, the synthetic SME universe, ingestion with quarantine, the raw zone."""
