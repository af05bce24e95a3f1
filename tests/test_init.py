"""The package's public names: one table (``_PUBLIC``) read by ``__all__``, the lazy
loader, ``dir()`` and, through a generated block, type checkers."""

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import keras_lstm_patterns as klp

INIT = Path(klp.__file__)


def _rank(name):
    """ruff's isort order within one module: constants, classes, then the rest."""
    if name.isupper():
        return 0
    return 1 if name[0].isupper() else 2


def type_checking_block():
    """The ``if TYPE_CHECKING:`` imports the table asks for, in ruff's isort order."""
    rows = []
    for name, (module, attribute) in klp._PUBLIC.items():
        source, member = (".", module[1:]) if attribute is None else (module, attribute)
        rows.append((source, _rank(member), member, name))
    lines = []
    for source, _, member, name in sorted(rows):
        where = "." if source == "." else source
        lines.append(f"    from {where} import {member} as {name}")
    return "\n".join(lines)


def written_block():
    """The import lines written under ``if _TYPE_CHECKING:`` in ``__init__.py``."""
    tree = ast.parse(INIT.read_text())
    for node in tree.body:
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "_TYPE_CHECKING":
            lines = INIT.read_text().splitlines()
            return "\n".join(lines[node.body[0].lineno - 1 : node.body[-1].end_lineno])
    raise AssertionError("no `if _TYPE_CHECKING:` block in keras_lstm_patterns/__init__.py")


def test_the_type_checking_block_is_the_table():
    want = type_checking_block()
    assert written_block() == want, (
        "keras_lstm_patterns/__init__.py: the TYPE_CHECKING block differs from _PUBLIC; "
        "paste this block under `if _TYPE_CHECKING:`\n" + want
    )


def test_all_and_dir_come_from_the_table():
    assert klp.__all__ == sorted(klp._PUBLIC)
    assert set(klp._PUBLIC) <= set(dir(klp))


def test_every_public_name_is_the_object_of_its_module():
    for name, (module, attribute) in klp._PUBLIC.items():
        mod = importlib.import_module(module, "keras_lstm_patterns")
        want = mod if attribute is None else getattr(mod, attribute)
        assert getattr(klp, name) is want, name


def test_a_name_outside_the_table_is_an_attribute_error():
    try:
        klp.no_such_name  # noqa: B018
    except AttributeError as err:
        assert "no_such_name" in str(err)
    else:
        raise AssertionError("klp.no_such_name did not raise AttributeError")


def test_the_typed_errors_are_public():
    assert klp.ArgumentError.__module__ == "keras_lstm_patterns._errors"
    assert issubclass(klp.ArgumentError, ValueError)
    assert issubclass(klp.ArgumentTypeError, TypeError)
    assert issubclass(klp.ArgumentTypeError, klp.ArgumentError)


def test_importing_the_package_and_reading_the_table_loads_no_keras():
    code = (
        "import sys, keras_lstm_patterns as k\n"
        "k.ArgumentError\n"
        "print(sorted(k._PUBLIC) == k.__all__, 'keras' in sys.modules)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.split() == ["True", "False"]
