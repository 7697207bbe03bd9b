"""Pure shared code: clock, identifiers, canonical JSON. No I/O."""
