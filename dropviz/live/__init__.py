"""The live view apart from its page: session, payload, and the Streamlit component (component.py)."""
