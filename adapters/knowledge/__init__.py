"""Reading documents for the knowledge base from folders and files."""
