"""The PyQt6 desktop window: Qt models over the bridge, views, tray and dialogs."""
