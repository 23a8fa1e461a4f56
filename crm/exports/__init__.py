"""Export files built in Celery (DESIGN.md "Statistics and exports", issue 7).

kinds.py (the registry), requests.py (asking for one), build.py (the
task's work), files.py (paths, names, download), sweeps.py (reclaim and
clean-up), writers.py (CSV and xlsx), and one module per crm kind:
consultations.py, referrals.py, statistics.py.
"""
