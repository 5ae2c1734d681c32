"""The auditor portal: a read-only, logged web view of the lineage (`lotline serve`)."""
