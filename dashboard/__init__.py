"""The Streamlit dashboard. Pages draw; `pipelines` decides and queries."""
