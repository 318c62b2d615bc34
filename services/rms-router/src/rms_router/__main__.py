from rms_router.bootstrap import main

main()
