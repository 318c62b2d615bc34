"""Container images, Compose and Kubernetes for the clearance platform (deploy/README.md)."""
