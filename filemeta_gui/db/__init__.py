"""The database layer: models, types, the ``Database`` owner of the engine, migrations."""
