"""Dropout beyond dense layers: mask shapes for convolutional and recurrent networks, and DropConnect.

masks.py draws the masks (from a run's mask stream, by the engine's keep rule), site.py is one place where a
network drops, nets.py holds the networks, run.py trains one with its p = 0 twin and records frames,
experiment.py is the `variants` experiment. The Variants page's parts: settings.py (and the URL), playback.py,
payload.py, and the Streamlit element component.py with its view.js (the only module here importing Streamlit).
"""
