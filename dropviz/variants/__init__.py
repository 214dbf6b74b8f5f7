"""Dropout beyond dense layers: mask shapes for convolutional and recurrent networks, and DropConnect.

masks.py draws the masks (from a run's mask stream, by the engine's keep rule), conv.py, rnn.py and
dense.py are the networks, run.py trains one with its p = 0 twin and records frames, experiment.py is
the `variants` experiment.
"""
