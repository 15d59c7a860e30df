"""Bulk import of shipments and companies into datasets (CSV, XLSX): read, map, parse, load."""
