"""A stand-in for the BIS portal: the real BIS-CRS register and sample CM/L licences over HTTP."""
