"""Detection of hostile infrastructure in stored flow records, for the active-cyber-defence capability.

Detectors are engine-independent: an :class:`~mamori.traffic.detect.ports.AnalyticsEngine` (DuckDB or Spark)
computes per-pair aggregates with the portable SQL in :mod:`mamori.traffic.detect.queries`, and the shared numpy
scoring in this package turns them into :class:`~mamori.traffic.detect.model.Finding` objects, so every engine
yields identical findings.
"""
