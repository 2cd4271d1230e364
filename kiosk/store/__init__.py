"""Durable storage: the SQLite store (``database``, ``schema``), CreateAI dataset files
(``createai_json``), exports to a folder or USB stick (``export``) and USB stick
detection (``usb``). Import from the modules themselves; this package re-exports nothing
so that importing one piece never pulls in the others.
"""
