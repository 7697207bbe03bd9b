"""Threat intelligence: STIX 2.1 store, TLP 2.0 partner sharing, TAXII 2.1 semantics, sensor feeds."""
