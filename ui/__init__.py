"""Streamlit-side helpers of app.py (the engine in dropviz/ never imports Streamlit)."""
