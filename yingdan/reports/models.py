"""Reports computed in the database (no models of their own yet)."""
