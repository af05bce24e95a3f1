"""Every public function and class documented in Keras's form: a summary, ``Args:`` (when
it takes any), ``Returns:`` (functions), ``Raises:`` and one ``>>>`` example, which
``--doctest-modules`` runs. The public modules are those of the package's one table of
public names, ``keras_lstm_patterns._PUBLIC``; a module's public names are its
``__all__``."""

import importlib
import inspect

import pytest

import keras_lstm_patterns as klp

MODULES = ["keras_lstm_patterns"] + [
    f"keras_lstm_patterns{module}"
    for module, attribute in klp._PUBLIC.values()
    if attribute is None
]


def public_objects():
    seen = {}
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isfunction(obj) or inspect.isclass(obj):
                seen.setdefault(id(obj), (f"{module_name}.{name}", obj))
    return list(seen.values())


def missing_sections(obj) -> list[str]:
    doc = inspect.getdoc(obj) or ""
    missing = []
    if not doc.strip() or not doc.splitlines()[0].strip():
        missing.append("summary")
    try:
        params = [p for p in inspect.signature(obj).parameters if p != "self"]
    except (TypeError, ValueError):
        params = []
    if params and "Args:" not in doc:
        missing.append("Args")
    if inspect.isfunction(obj) and "Returns:" not in doc and "Yields:" not in doc:
        missing.append("Returns")
    for section in ("Raises:", ">>>"):
        if section not in doc:
            missing.append(section.strip(":"))
    return missing


def test_the_public_modules_cover_every_public_module_on_disk():
    """A module added without an entry in ``_PUBLIC`` would escape this check."""
    from pathlib import Path

    base = Path(klp.__file__).parent
    on_disk = {
        p.stem if p.name != "__init__.py" else p.parent.name for p in base.glob("*/__init__.py")
    } | {p.stem for p in base.glob("*.py")}
    on_disk = {n for n in on_disk if not n.startswith("_") and n not in ("cli",)}
    assert on_disk == {m.rsplit(".", 1)[-1] for m in MODULES[1:]}


def test_every_public_name_is_documented_in_full():
    objects = public_objects()
    assert len(objects) > 60  # the table was read
    gaps = {name: missing for name, obj in objects if (missing := missing_sections(obj))}
    assert gaps == {}


@pytest.mark.parametrize(
    "doc, gaps",
    [
        ("Summary.\n\nArgs:\n    x: a.\n\nReturns:\n    b.\n\nRaises:\n    c.\n\n>>> f(1)\n1", []),
        ("Summary.\n\nArgs:\n    x: a.\n\n>>> f(1)\n1", ["Returns", "Raises"]),
        ("", ["summary", "Args", "Returns", "Raises", ">>>"]),
    ],
)
def test_the_check_finds_a_missing_section(doc, gaps):
    def f(x):
        return x

    f.__doc__ = doc
    assert missing_sections(f) == gaps
