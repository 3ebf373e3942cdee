"""Domain operations: the one place that changes state and publishes the matching events.

REST handlers, WebSocket commands and the desktop window all call these functions.
"""
