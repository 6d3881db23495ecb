"""The knowledge base: the team's own documents, parsed into passages that keep their heading
path, and retrieved with a confidence so an answer can cite them or say the docs don't cover it.

Pure text processing lives here (no I/O); files are read in `adapters/knowledge/` and passages
are stored and matched in `storage/knowledge*.py`.
"""
