"""orderflow's errors as exceptions.

Every error orderflow answers is ``application/problem+json`` (RFC 9457), which the
generated operations parse as ``Problem`` and return beside successful bodies. ``ok()``
turns that into control flow: it returns a successful answer's parsed body and raises
``ProblemError`` for a problem, carrying its ``type`` (a ``ProblemType``: a stable URI, safe
to branch on, e.g. ``ProblemType.ORDER_FINAL``), its ``detail`` and the JSON pointers of the
fields at fault.

This module is not generated: ``generate.sh`` copies it into the package.
"""

from typing import TypeVar

from .models import Problem
from .types import Response, Unset

T = TypeVar("T")


class ProblemError(Exception):
    """A problem+json answer: ``status``, ``type``, ``title``, ``detail`` and ``pointers``
    (one per entry of ``errors[]``, for 422 answers), with the parsed ``problem``."""

    def __init__(self, status: int, problem: Problem) -> None:
        self.status = status
        self.problem = problem
        self.type = problem.type_
        self.title = problem.title
        self.detail = problem.detail
        violations = [] if isinstance(problem.errors, Unset) else problem.errors
        self.pointers = [violation.pointer for violation in violations]
        super().__init__(f"{status} {problem.type_}: {problem.detail}")


class UnexpectedAnswer(Exception):
    """An answer that is neither a documented success nor a problem (e.g. from a proxy)."""

    def __init__(self, status: int, content: bytes) -> None:
        self.status = status
        self.content = content
        super().__init__(f"unexpected {status} answer: {content[:200]!r}")


def ok(response: Response[T]) -> T:
    """The parsed body of a 2xx answer; raises ``ProblemError`` for a problem."""
    status = int(response.status_code)
    parsed = response.parsed
    if isinstance(parsed, Problem):
        raise ProblemError(status, parsed)
    if 200 <= status < 300 and parsed is not None:
        return parsed
    raise UnexpectedAnswer(status, response.content)
