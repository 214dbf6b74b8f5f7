"""The live view's CSS, shared by the Streamlit element (component.py) and the standalone replay
(dropviz/replay.py), which must not import Streamlit."""
# The panes get their size here; the JavaScript lays the SVGs out in that many CSS pixels, with text
# in CSS pixels, so text keeps its size when the pane is small and grows with browser zoom.
CSS = """
.dropviz-live { display: flex; flex-wrap: wrap; gap: 0.8rem; align-items: flex-start; }
.dropviz-live .diagram { flex: 3 1 560px; min-width: 0; }
.dropviz-live .curves { flex: 2 1 380px; min-width: 0; }
.dropviz-live.present { display: grid; grid-template-columns: minmax(0, 1fr); row-gap: 4px; }
.dropviz-live.present .diagram { grid-row: 1; height: 100%; overflow: hidden; }
.dropviz-live.present .curves { grid-row: 2; height: 100%; overflow: hidden; }
svg { display: block; max-width: 100%; height: auto; }
"""
