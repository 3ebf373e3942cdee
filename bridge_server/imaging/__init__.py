"""Pure pixel and file functions, safe to run in worker processes."""
