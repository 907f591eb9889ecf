"""The staff web admin (issue 7): accounts, dashboard, inbox and the knowledge base's pages."""
