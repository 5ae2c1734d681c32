"""The tamper-evident audit trail: hash chains over every stored record (`chain`) and its CLI."""
