"""``python -m filemeta_gui`` starts the desktop app."""

from filemeta_gui.app import main

raise SystemExit(main())
