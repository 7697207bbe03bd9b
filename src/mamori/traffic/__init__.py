"""Active-cyber-defence flow analytics: lawful collection (ingest side) of mechanical flow information.

Modules: ``schema`` (the stored record), ``zeek``/``netflow``/``pcap`` (parsers), ``collector`` (UDP
NetFlow/IPFIX), ``minimise`` (profiles, domestic rule), ``approvals`` (oversight-commission
approvals), ``flowstore`` (Parquet), ``ingest`` (the use case). Nothing is imported here, so that
importing the package does no work.
"""
