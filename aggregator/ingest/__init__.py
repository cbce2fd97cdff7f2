"""Ingest: turn inputs (seed files, feed documents) into SourceData."""
