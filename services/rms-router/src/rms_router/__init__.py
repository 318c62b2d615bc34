"""rms-router: decides facilitation or examination and routes BEs to assessment and queues."""
