"""Qt item models fed by service calls and broker events."""
