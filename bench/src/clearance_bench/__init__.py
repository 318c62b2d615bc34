"""Pipeline benchmark of the clearance platform."""
