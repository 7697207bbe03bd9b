"""Analytics engines behind :class:`mamori.traffic.detect.ports.AnalyticsEngine`: DuckDB and Apache Spark."""
