"""Indexing folders: walk, diff against the library, hash, thumbnail (no Qt).

``scanner.scan_folder(database, folder_id, options)`` is the entry point. Nothing is
imported here: a module of this package (``hashing``, ``isolated``) would otherwise bring
the scanner, its planner and Pillow into every command that only lists or searches
(~45 ms of each ``filemeta`` start).
"""
