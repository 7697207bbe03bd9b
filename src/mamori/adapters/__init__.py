"""All I/O lives here: storage engines, analytics engines, feeds, signing, notification."""
