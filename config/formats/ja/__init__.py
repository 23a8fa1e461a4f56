"""Package of the ja format overrides (FORMAT_MODULE_PATH)."""
