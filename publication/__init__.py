"""From links to publishable numbers: allocation, aggregation, disclosure control, reports."""
