"""The lowest versions ``pyproject.toml`` allows, as pip constraints (``make test-min``).

Every requirement of the package, and of the extras named on the command line, with a
lower bound (``>=X``) becomes ``name==X``; the rest of the environment resolves as usual.
``python tests/min_versions.py tensorflow,classical`` prints the constraints for the core
plus the ``tensorflow`` and ``classical`` extras.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def lowest(requirements: list[str]) -> list[str]:
    """``name==lower`` for each requirement with a ``>=`` bound.

    Args:
        requirements: PEP 508 strings, as in ``pyproject.toml``.

    Returns:
        One pin per requirement that has a lower bound, in the given order.

    >>> lowest(["keras>=3.12,<3.16", "pandas>=2.2.2,<4", "tensorflow", "x[y]>=1"])
    ['keras==3.12', 'pandas==2.2.2', 'x==1']
    """
    pins = []
    for req in requirements:
        match = re.match(r"\s*([A-Za-z0-9_.-]+)(\[[^]]*\])?\s*(.*)", req)
        if not match:
            continue
        bound = re.search(r">=\s*([0-9][^,;\s]*)", match.group(3))
        if bound:
            pins.append(f"{match.group(1)}=={bound.group(1)}")
    return pins


def constraints(extras: list[str]) -> list[str]:
    """The pins for the package's requirements plus the named extras.

    Args:
        extras: names under ``[project.optional-dependencies]``.

    Returns:
        The ``name==lower`` lines.

    >>> sorted(pin.split("==")[0] for pin in constraints(["tensorflow"]))
    ['keras', 'matplotlib', 'numpy', 'pandas', 'tensorflow']
    """
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    reqs = list(project["dependencies"])
    for extra in extras:
        reqs += project["optional-dependencies"][extra]
    return lowest(reqs)


if __name__ == "__main__":
    print("\n".join(constraints([e for arg in sys.argv[1:] for e in arg.split(",") if e])))
