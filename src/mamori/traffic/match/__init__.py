"""Fast matching of flow rows against threat-intelligence indicators (addresses, prefixes, names, ports)."""
