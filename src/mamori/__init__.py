"""mamori (守り): a national cyber-defence platform.

Threat-intelligence sharing (STIX 2.1, TAXII 2.1, TLP 2.0), lawful flow analytics for active cyber defence,
oversight of intrusive measures and coordination of critical-infrastructure operators.
"""

__version__ = "0.1.0"
