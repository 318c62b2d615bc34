from bis_verifier.bootstrap import main

main()
