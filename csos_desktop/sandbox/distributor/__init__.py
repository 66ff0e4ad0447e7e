"""The reference distributor (sandbox): the distributor API over HTTPS, TEST ONLY.

`service.Distributor` holds the rules (verification, fulfilment, receipts,
reports); `app.create_app` puts the HTTP API in front; `server` runs it with
uvicorn over TLS. See docs/distributor.md.
"""
