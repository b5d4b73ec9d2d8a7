"""What the in-process race tests share: parameters as a view gets them, threads that report."""
from __future__ import annotations

import time
from typing import Any


def collecting(target: Any, failures: list[BaseException]) -> Any:
    """`target`, with any exception kept for the test thread to raise."""
    def run(*args: Any) -> None:
        try:
            target(*args)
        except BaseException as error:  # noqa: BLE001 - re-raised by the test
            failures.append(error)
    return run


def params(**values: Any) -> Any:
    """Merged request parameters, as the view wrapper hands them to the API's operations."""
    from chalicelib.params import merge

    return merge([(k, str(v)) for k, v in values.items()], [])


def now() -> int:
    return int(time.time())
