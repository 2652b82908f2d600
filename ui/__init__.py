"""The Gradio edge: one module per tab over the shared services."""
