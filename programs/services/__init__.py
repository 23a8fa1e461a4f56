"""Rule-bearing writes of programs, one module per concept (STYLE.md §1, §2)."""
