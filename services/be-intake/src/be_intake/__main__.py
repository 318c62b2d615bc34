from be_intake.bootstrap import main

main()
