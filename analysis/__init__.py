"""The product's domain services: score and record texts, history, insights, admin.

Both edges (the Gradio UI and the REST API) call these; nothing here imports a web
framework. Every method takes the caller's user id, already authenticated by the edge
through `AccountService.authenticate`, and only ever touches that user's rows.
"""
