# SPDX-License-Identifier: BSD-3-Clause
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from lab import Lab, DPNAT  # noqa: E402


def pytest_collection_modifyitems(config, items):
    if os.geteuid() != 0:
        skip = pytest.mark.skip(reason="integration tests need root (network namespaces)")
        for it in items:
            it.add_marker(skip)


@pytest.fixture
def lab(request):
    assert os.path.exists(DPNAT), f"{DPNAT} not built"
    lb = Lab(request.node.name)
    yield lb
    lb.close()
