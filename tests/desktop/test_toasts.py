"""Toasts float over the window: a notice never moves the content under the pointer."""

from __future__ import annotations

from PyQt6.QtWidgets import QWidget

from desktop.window import PAGES
from tests.desktop.conftest import Desk


def test_a_notice_does_not_move_any_content(desk: Desk) -> None:
    async def scenario() -> None:
        window = desk.window
        for page in PAGES:
            window.show_page(page)
            page_widget = window.pages.currentWidget()
            await desk.until(page_widget.isVisible, what=f"{page} shown")
            widgets = [window.pages, page_widget, *page_widget.findChildren(QWidget)]
            before = [w.geometry() for w in widgets]
            window.banners.show_message(f"Export folder is not writable ({page})", "error")
            window.banners.show_message(f"Photos to approve: 3 photos wait ({page})", "info")
            await desk.until(lambda: window.banners.height() > 0, what="the toasts shown")
            assert [w.geometry() for w in widgets] == before, f"{page} moved under a toast"
            # The toasts lie over the page (top right), not above it.
            assert window.pages.geometry().contains(window.banners.geometry().topLeft())
            for banner in window.banners.banners():
                banner.hide()  # what Dismiss does
            await desk.until(lambda: not window.banners.banners(), what="dismissed")

    desk.run(scenario())
