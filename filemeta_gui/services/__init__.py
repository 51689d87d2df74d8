"""Use cases over the repositories: transactions, permission checks, progress.

No Qt here; services hand out domain records only (never ORM rows).
"""
