"""Daily-life guidance for Hamamatsu's foreign residents: articles, retrieval and staff tools."""
