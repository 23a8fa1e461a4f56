"""The DRF API of programs, one module per resource (STYLE.md §1)."""
