"""The operations console of the clearance platform (a web page for officers and staff)."""
