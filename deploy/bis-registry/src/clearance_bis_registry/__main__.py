from clearance_bis_registry.cli import main

main()
