"""nkmap: an offline-first conflict map of the Nagorno-Karabakh conflict.

`geo` is the library. It never imports Streamlit; pages and the CLI call it.
"""

__version__ = "0.1.0"
