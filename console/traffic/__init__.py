"""Daily traffic and spend rollups, and the chart data read from them."""
