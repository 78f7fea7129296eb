from meshctl.cli.main import main

main()
