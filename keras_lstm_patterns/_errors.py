"""The package's typed refusals, importable without numpy or Keras (``klp`` reads them)."""

from __future__ import annotations

from typing import Any

__all__ = ["ArgumentError", "ArgumentTypeError"]


class ArgumentError(ValueError):
    """A refused argument: ``name``, the ``rule`` it breaks and what was ``received``.

    Every refusal of the package is one of these (or ``ArgumentTypeError``), so code
    that handles them (the ``klp`` command line among it) reads the attributes and never
    the message text. It subclasses ``ValueError``, so ``except ValueError`` still works.
    The message is "`name` must be RULE. Received: RECEIVED". It can be pickled (it
    crosses worker processes intact).

    Attributes:
        name: the argument, as the caller spelled it (``"look_back"``, ``"frame"``).
        rule: what it must be (``"between 1 and 143 for a series of length 144"``).
        received: how the received value is shown (``"look_back=200"``).
        value: the received value itself (``None`` when only a description was shown).

    Args:
        name: the refused argument's name, kept as ``name``.
        rule: what the argument must be, completing "`name` must be ...", kept as
            ``rule``.
        received: how the received value is shown after "Received: ", kept as
            ``received``.
        value: the received value itself, kept as ``value`` (default ``None``).

    Raises:
        Nothing of its own: the arguments are not checked, only formatted into the
            message as given.

    >>> err = ArgumentError("look_back", "between 1 and 143", "look_back=200", 200)
    >>> str(err)
    '`look_back` must be between 1 and 143. Received: look_back=200'
    >>> isinstance(err, ValueError), err.name, err.value
    (True, 'look_back', 200)
    """

    def __init__(self, name: str, rule: str, received: str, value: Any = None):
        super().__init__(f"`{name}` must be {rule}. Received: {received}")
        self.name = name
        self.rule = rule
        self.received = received
        self.value = value

    def __reduce__(self) -> tuple[Any, ...]:  # picklable, e.g. across worker processes
        return type(self), (self.name, self.rule, self.received, self.value)


class ArgumentTypeError(ArgumentError, TypeError):
    """An argument of the wrong type; a ``TypeError`` as well as an ``ArgumentError``.

    Being an ``ArgumentError``, it is also a ``ValueError``, with the same attributes
    (``name``, ``rule``, ``received``, ``value``) and the same message shape.

    Args:
        name, rule, received, value: as for :class:`ArgumentError`.

    Raises:
        Nothing of its own.

    >>> err = ArgumentTypeError("offset", "an integer step", "offset=1.5", 1.5)
    >>> str(err)
    '`offset` must be an integer step. Received: offset=1.5'
    >>> isinstance(err, TypeError), isinstance(err, ValueError)
    (True, True)
    """
