"""keras_lstm_patterns: the recurrent-network patterns of Keras, as tested code."""

from . import datasets as datasets
from . import windows as windows

__all__ = ["datasets", "windows"]
__version__ = "0.1.0"
