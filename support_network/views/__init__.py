"""The DRF API of the network, one module per resource (STYLE.md §1)."""
