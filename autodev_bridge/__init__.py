"""AutoDev Bridge, the application: entry points; the installed copy also carries `resources/`."""
