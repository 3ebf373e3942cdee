"""The aiohttp application: REST routes, the WebSocket endpoint, security, the phone page."""
