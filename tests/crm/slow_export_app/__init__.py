"""A test-only app for worker-kill tests: a slow export kind (see apps.py)."""
