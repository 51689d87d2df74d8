"""The desktop window: PySide6 widgets, Qt item models and qasync slots.

Only this package imports Qt; it never imports SQLAlchemy (import-linter contracts).
"""
