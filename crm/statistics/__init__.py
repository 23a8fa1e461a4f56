"""Statistics per fiscal year: aggregate selectors (DESIGN.md "Statistics and exports").

reach.py (whose work a caller sees), dimensions.py (what rows group by),
query.py (the grouped SQL), consultations.py, referrals.py, outcomes.py (one
module per statistic), small_cells.py (suppression), facts.py (the
consultation facts the statistics read), programs.py (the programs plug-in).
"""
