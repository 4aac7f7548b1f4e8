"""A module that does not import (tests/test_python.c)."""

import bdrl_no_such_module  # raise: import  # noqa: F401


class Env:
    pass
