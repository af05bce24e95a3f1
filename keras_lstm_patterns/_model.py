"""What a model is made of: its layers in order with nested models opened, the recurrent
ones, the stateful ones.

Importing this module is cheap (no Keras): Keras is imported when a model is read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import keras

__all__ = ["flat_layers", "is_recurrent", "recurrent_layers", "stateful_layers"]


def is_recurrent(layer: keras.layers.Layer) -> bool:
    """Whether a layer is recurrent: any ``keras.layers.RNN`` or a ``Bidirectional`` one.

    Args:
        layer: a Keras layer.

    Returns:
        ``True`` for LSTM, GRU, SimpleRNN, another ``keras.layers.RNN``, or a
        ``Bidirectional`` wrapper around one; ``False`` for anything else.

    Raises:
        Nothing of its own: ``layer`` is not checked, and an object that is not a layer
            gives ``False``.

    >>> import keras
    >>> is_recurrent(keras.layers.GRU(4)), is_recurrent(keras.layers.Dense(4))
    (True, False)
    """
    import keras

    return isinstance(layer, keras.layers.RNN | keras.layers.Bidirectional)


def recurrent_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """The recurrent layers of a model, nested models opened, in order.

    Args:
        model: a Keras model.

    Returns:
        The layers :func:`is_recurrent` accepts, in the order of :func:`flat_layers`.

    Raises:
        Nothing of its own: ``model`` is not checked; an object without ``layers`` (a
            layer, ``None``) raises ``AttributeError``.

    >>> from keras_lstm_patterns import many_to_one
    >>> [la.name for la in recurrent_layers(many_to_one(5, 2, (8, 4)))]
    ['lstm_1', 'lstm_2']
    """
    return [layer for layer in flat_layers(model) if is_recurrent(layer)]


def flat_layers(model: keras.Model, *, top: bool = True) -> list[keras.layers.Layer]:
    """A model's layers in order, nested models opened.

    Args:
        model: a Keras model.
        top: keep the model's own input layers (nested models' input layers are
            always left out).

    Returns:
        The layers, each nested model replaced by its own layers.

    Raises:
        Nothing of its own: ``model`` is not checked; an object without ``layers`` (a
            layer, ``None``) raises ``AttributeError``.

    >>> from keras_lstm_patterns import seq2seq_autoencoder
    >>> ae = seq2seq_autoencoder(5, 2, latent=3)
    >>> [la.name for la in flat_layers(ae.autoencoder)]
    ['steps_in', 'encoder_lstm_1', 'repeat', 'decoder_lstm_out']
    """
    import keras

    out: list[keras.layers.Layer] = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            out.extend(flat_layers(layer, top=False))
        elif top or not isinstance(layer, keras.layers.InputLayer):
            out.append(layer)
    return out


def stateful_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """Every stateful recurrent layer of ``model``, nested models included, in order.

    Args:
        model: a Keras model.

    Returns:
        The ``keras.layers.RNN`` layers built with ``stateful=True``, in the order of
        :func:`flat_layers`; a ``Bidirectional`` wrapper of stateful layers gives its
        forward and backward layers, in that order.

    Raises:
        Nothing of its own: ``model`` is not checked; an object without ``layers`` (a
            layer, ``None``) raises ``AttributeError``.

    >>> from keras_lstm_patterns import stateful_generator
    >>> [la.name for la in stateful_layers(stateful_generator(2, batch_size=1, units=(4, 3)))]
    ['lstm_1', 'lstm_2']
    """
    import keras

    def rnns(layer: keras.layers.Layer) -> list[keras.layers.Layer]:
        if isinstance(layer, keras.layers.Bidirectional):
            return [layer.forward_layer, layer.backward_layer]
        return [layer]

    return [
        rnn
        for layer in flat_layers(model)
        for rnn in rnns(layer)
        if isinstance(rnn, keras.layers.RNN) and rnn.stateful
    ]
