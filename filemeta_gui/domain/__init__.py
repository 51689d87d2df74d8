"""Plain data handed between layers: frozen dataclasses, enums and errors. No I/O."""
