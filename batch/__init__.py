"""Batch scoring of uploaded CSV/TSV files: read, score in chunks, record all or nothing."""
