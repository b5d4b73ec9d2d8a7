"""The browser fixtures (`pw`, `browser`) for every test in this folder."""
from tests.browser.browser_support import browser, pw  # noqa: F401
