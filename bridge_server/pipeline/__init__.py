"""The photo pipeline: watcher, importer, scheduler, analysis and export jobs, selection."""
