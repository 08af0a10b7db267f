"""clv-warehouse dashboards: customer value, model performance and operations, on the marts the
product publishes. Start with `make dashboards` (or `clv-jobs dashboards serve`)."""

import streamlit as st

st.set_page_config(page_title="clv-warehouse", layout="wide")

pages = st.navigation(
    [
        st.Page("customer_value.py", title="Customer value", url_path="customer-value", default=True),
        st.Page("model_performance.py", title="Model performance", url_path="model-performance"),
        st.Page("operations.py", title="Operations", url_path="operations"),
    ]
)
pages.run()
