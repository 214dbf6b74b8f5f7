"""bench/fps.py's baseline: the live page as shipped, except that while playing its Plotly panels are
redrawn with every rerun of the live view (as in slow motion) instead of every 3 s.

    streamlit run bench/baseline_page.py    (bench/fps.py starts it)

It runs the page's own code (app_pages/live.py), so the two differ in that one choice only.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from app_pages import live  # importing the page runs nothing; Streamlit runs it as __main__

live.live_page(follow_frames=True)
