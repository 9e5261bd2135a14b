"""Data quality: the contracts' rules run as Great Expectations suites, the reuse demands that
span deliveries, and the reports each source holder gets about its own records."""
