"""Rule-bearing writes of the network, one module per concept (STYLE.md §2)."""
