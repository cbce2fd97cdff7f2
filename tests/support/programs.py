"""External programs the tests run (feed readers, schema validators)."""

import os
import shutil

import pytest


def need(program: str) -> str:
    found = shutil.which(program)
    if found is None:
        reason = f"{program} is not installed (Debian package; .ci/run installs it)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return found
