"""The report library page of the app (ui/app.py registers it with st.navigation):
the indexed reports, sortable and filterable, with their grades; choosing a report
filters the chat to it."""

import sys
from pathlib import Path

try:
    from ui.app import library_page
except ImportError:  # `streamlit run ui/app.py` from a checkout that is not installed
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from ui.app import library_page

library_page()
