"""ooc-issuer: issues Out of Charge and the e-Gatepass, or holds the BE for an officer."""
