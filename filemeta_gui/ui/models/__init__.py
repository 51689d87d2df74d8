"""Qt item models over the services (pages of domain records, never ORM rows)."""
