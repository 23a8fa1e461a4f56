"""Rule-bearing writes on clients and cases (STYLE.md §2).

Each service takes keyword-only arguments and an Actor, runs in one
transaction and raises DomainError subclasses with Japanese messages, so the
API, the web UI, commands and tasks all share one implementation.
"""
