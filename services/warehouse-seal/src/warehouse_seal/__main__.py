from warehouse_seal.bootstrap import main

main()
