"""dlt sources (verified-sources layout: one folder per source)."""
