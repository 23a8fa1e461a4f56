"""Per-language format modules (settings.FORMAT_MODULE_PATH)."""
