"""Package of the en format overrides (FORMAT_MODULE_PATH)."""
