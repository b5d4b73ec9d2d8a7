"""What the in-process race tests share: parameters as a view gets them, threads that report."""
from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from typing import Any


def collecting(target: Any, failures: list[BaseException]) -> Any:
    """`target`, with any exception kept for the test thread to raise."""
    def run(*args: Any) -> None:
        try:
            target(*args)
        except BaseException as error:  # noqa: BLE001 - re-raised by the test
            failures.append(error)
    return run


def run_together(target: Any, argument_lists: Iterable[tuple[Any, ...]]) -> None:
    """`target` on one thread per argument tuple, all at once; the first failure re-raised."""
    failures: list[BaseException] = []
    threads = [threading.Thread(target=collecting(target, failures), args=args)
               for args in argument_lists]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]


def params(**values: Any) -> Any:
    """Merged request parameters, as the view wrapper hands them to the API's operations."""
    from chalicelib.params import merge

    return merge([(k, str(v)) for k, v in values.items()], [])


def now() -> int:
    return int(time.time())
