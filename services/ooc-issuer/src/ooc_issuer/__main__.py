from ooc_issuer.bootstrap import main

main()
