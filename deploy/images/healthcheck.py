"""The image's HEALTHCHECK: is the component's /healthz answering on its own port?"""

import os
import sys
import urllib.request

port = os.environ.get("CLEARANCE_HTTP_PORT", "8080")
try:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
        sys.exit(0 if response.status == 200 else 1)
except OSError:
    sys.exit(1)
