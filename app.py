"""dropviz: the entry point. `streamlit run app.py` serves four pages.

- Live view (app_pages/live.py): watch dropout mask, rescale and regularize a network as it trains.
- Lesson (app_pages/lesson.py): ten guided steps through dropout, one per screen, `/Lesson?step=N`.
- Experiments (app_pages/experiments.py): measured answers for choosing p, data size, test-time rule,
  sparsity and cost.
- Why dropout works (app_pages/why.py, `/Why`): the ensemble of thinned networks and co-adaptation, measured.
- Variants (app_pages/variants.py): dropout in conv and recurrent networks, and DropConnect, on 8x8 digits.

The page list names the pages in the sidebar. The page files are not under pages/: Streamlit would
auto-discover that folder and, on a direct visit to /Experiments, list the live page as "app".
No page icons: Streamlit fetches Material icons from Google, and a classroom may be offline.
"""
import streamlit as st

st.navigation([st.Page("app_pages/live.py", title="Live view", default=True),
               st.Page("app_pages/lesson.py", title="Lesson", url_path="Lesson"),
               st.Page("app_pages/experiments.py", title="Experiments", url_path="Experiments"),
               st.Page("app_pages/why.py", title="Why dropout works", url_path="Why"),
               st.Page("app_pages/variants.py", title="Variants", url_path="Variants")]).run()
