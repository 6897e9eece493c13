"""The reliability suite runs Mend end to end, on the same harness as tests/e2e."""

from tests.e2e.conftest import make_stack, stack

__all__ = ["make_stack", "stack"]
