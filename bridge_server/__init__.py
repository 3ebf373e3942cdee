"""AutoDev Bridge server: everything that is not GUI. Never imports Qt."""
