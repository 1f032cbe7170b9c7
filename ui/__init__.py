"""User interfaces: the Streamlit app and the command line. Both thin."""
