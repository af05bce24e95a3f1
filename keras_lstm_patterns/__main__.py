"""``python -m keras_lstm_patterns``: the ``klp`` command line."""

import sys

from .cli import main

sys.exit(main())
