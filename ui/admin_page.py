"""The admin page of the app (ui/app.py registers it with st.navigation only where
Settings.admin_enabled allows it): the live index and the buttons that change it."""

import sys
from pathlib import Path

try:
    from ui.app import admin_main
except ImportError:  # `streamlit run ui/app.py` from a checkout that is not installed
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from ui.app import admin_main

admin_main()
